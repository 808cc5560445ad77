//! Group commit for the inbox: webhooks that arrive together are inserted together, in one
//! multi-row statement, so a burst costs one commit (one WAL flush) instead of one per
//! webhook. A lone webhook is written at once (no waiting for company).
//!
//! Several instances may write at once: each batch inserts its keys in one fixed order
//! (sorted by source and key), so two batches waiting on each other's uncommitted keys can
//! never form a cycle. A batch that fails as a whole (one entry PostgreSQL refuses) is
//! written again entry by entry, so one bad webhook never fails its neighbours.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use aftercare::Error;
use aftercare::store::{InboxInsert, NewInboxEntry};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

/// The most webhooks written in one statement (9 bound values each).
const MAX_BATCH: usize = 128;

struct Job {
    entry: NewInboxEntry,
    meta: String,
    reply: oneshot::Sender<Result<InboxInsert, Error>>,
}

/// Hands inserts to a writer task on the current tokio runtime, starting one when needed.
#[derive(Debug, Default)]
pub(crate) struct InboxWriter {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
}

impl InboxWriter {
    fn sender(&self, pool: &PgPool) -> mpsc::Sender<Job> {
        let mut guard = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = guard.as_ref()
            && !tx.is_closed()
        {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(run(pool.clone(), rx));
        *guard = Some(tx.clone());
        tx
    }

    pub(crate) async fn insert(
        &self,
        pool: &PgPool,
        entry: NewInboxEntry,
    ) -> Result<InboxInsert, Error> {
        let meta = serde_json::to_string(&entry.verified.meta)
            .map_err(|e| Error::decode("inbox meta", e))?;
        let (reply, rx) = oneshot::channel();
        let mut job = Job { entry, meta, reply };
        // A writer whose runtime has gone away is replaced once.
        for _ in 0..2 {
            match self.sender(pool).send(job).await {
                Ok(()) => {
                    return rx.await.map_err(|_| {
                        Error::storage(
                            "insert into the inbox",
                            "the inbox writer stopped before answering",
                        )
                    })?;
                }
                Err(mpsc::error::SendError(j)) => {
                    job = j;
                    *self.tx.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
            }
        }
        Err(Error::storage(
            "insert into the inbox",
            "no inbox writer could be started",
        ))
    }
}

async fn run(pool: PgPool, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let written = if batch.len() > 1 {
            write(&pool, &batch).await.ok()
        } else {
            None
        };
        match written {
            Some(results) => {
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            None => {
                for job in batch {
                    let r = insert_one(&pool, &job.entry, &job.meta).await;
                    let _ = job.reply.send(r);
                }
            }
        }
    }
}

/// One webhook, on its own.
async fn insert_one(
    pool: &PgPool,
    entry: &NewInboxEntry,
    meta: &str,
) -> Result<InboxInsert, Error> {
    let err = |e| Error::storage("insert into the inbox", e);
    let v = &entry.verified;
    // One round trip, duplicate or not: the insert, and the existing row's id if it made
    // none (read in the statement's snapshot).
    let answer: Option<(i64, bool)> = sqlx::query_as(
        "WITH ins AS (
             INSERT INTO inbox (source, dedupe_key, topic, shop, occurred_at, meta, body, received_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $8)
             ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id)
         SELECT id, true FROM ins
         UNION ALL
         SELECT id, false FROM inbox
         WHERE source = $1 AND dedupe_key = $2 AND NOT EXISTS (SELECT 1 FROM ins)",
    )
    .bind(&entry.source)
    .bind(&v.dedupe_key)
    .bind(&v.topic)
    .bind(&v.shop)
    .bind(v.occurred_at)
    .bind(meta)
    .bind(&entry.body)
    .bind(entry.received_at)
    .fetch_optional(pool)
    .await
    .map_err(err)?;
    match answer {
        Some((id, true)) => return Ok(InboxInsert::Inserted(id)),
        Some((id, false)) => return Ok(InboxInsert::Duplicate(id)),
        None => {}
    }
    // ON CONFLICT waited for a concurrent insert of the same key that committed after the
    // statement's snapshot was taken; a new statement sees it.
    let id: i64 = sqlx::query_scalar("SELECT id FROM inbox WHERE source = $1 AND dedupe_key = $2")
        .bind(&entry.source)
        .bind(&v.dedupe_key)
        .fetch_one(pool)
        .await
        .map_err(err)?;
    Ok(InboxInsert::Duplicate(id))
}

type Key<'a> = (&'a str, &'a str);

fn key(j: &Job) -> Key<'_> {
    (
        j.entry.source.as_str(),
        j.entry.verified.dedupe_key.as_str(),
    )
}

/// A batch in one statement; the result for each job, in order.
async fn write(pool: &PgPool, batch: &[Job]) -> Result<Vec<InboxInsert>, sqlx::Error> {
    // Each key once, in a fixed order (the first delivery of a key in the batch is the one
    // stored; later ones are its duplicates).
    let mut seen = HashSet::new();
    let mut rows: Vec<&Job> = batch.iter().filter(|j| seen.insert(key(j))).collect();
    rows.sort_by(|a, b| key(a).cmp(&key(b)));

    let mut sql = String::from(
        "WITH ins AS (INSERT INTO inbox (source, dedupe_key, topic, shop, occurred_at, meta, body, received_at, next_attempt_at) VALUES ",
    );
    for i in 0..rows.len() {
        let p = i * 8;
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}::jsonb, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7,
            p + 8,
            p + 8
        ));
    }
    // The ids of keys stored before come back in the same statement (its snapshot); that
    // look-up reads nothing when the insert made every row.
    let n = rows.len();
    sql.push_str(&format!(
        " ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id, source, dedupe_key)
         SELECT id, source, dedupe_key, true FROM ins
         UNION ALL
         SELECT i.id, i.source, i.dedupe_key, false FROM inbox i
         JOIN unnest(${}::text[], ${}::text[]) AS m(source, dedupe_key)
           ON i.source = m.source AND i.dedupe_key = m.dedupe_key
         WHERE (SELECT count(*) FROM ins) < {n}",
        n * 8 + 1,
        n * 8 + 2
    ));
    let mut q = sqlx::query_as::<_, (i64, String, String, bool)>(&sql);
    for j in &rows {
        let v = &j.entry.verified;
        q = q
            .bind(&j.entry.source)
            .bind(&v.dedupe_key)
            .bind(&v.topic)
            .bind(&v.shop)
            .bind(v.occurred_at)
            .bind(&j.meta)
            .bind(&j.entry.body)
            .bind(j.entry.received_at);
    }
    let sources: Vec<&str> = rows.iter().map(|j| j.entry.source.as_str()).collect();
    let keys: Vec<&str> = rows
        .iter()
        .map(|j| j.entry.verified.dedupe_key.as_str())
        .collect();
    q = q.bind(&sources).bind(&keys);
    // One statement: atomic on its own, one commit.
    let answered = q.fetch_all(pool).await?;
    let mut new_ids: HashMap<(String, String), i64> = HashMap::new();
    let mut old_ids: HashMap<(String, String), i64> = HashMap::new();
    for (id, s, k, made) in answered {
        if made {
            new_ids.insert((s, k), id);
        } else {
            old_ids.insert((s, k), id);
        }
    }

    let mut claimed = HashSet::new();
    let mut results = Vec::with_capacity(batch.len());
    for j in batch {
        let k = (j.entry.source.clone(), j.entry.verified.dedupe_key.clone());
        let r = match (new_ids.get(&k), old_ids.get(&k)) {
            (Some(id), _) if claimed.insert(k.clone()) => InboxInsert::Inserted(*id),
            (Some(id), _) | (None, Some(id)) => InboxInsert::Duplicate(*id),
            // Deleted between the insert and the look-up (a redaction): write it on its own.
            (None, None) => return Err(sqlx::Error::RowNotFound),
        };
        results.push(r);
    }
    Ok(results)
}
