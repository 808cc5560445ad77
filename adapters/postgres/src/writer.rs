//! Group commit for the inbox: webhooks that arrive together are inserted together, in one
//! multi-row statement, so a burst costs one commit (one WAL flush) instead of one per
//! webhook. A lone webhook is written at once (no waiting for company).
//!
//! De-duplication is by key (unique `(source, dedupe_key)`) and by content (unique
//! `content_key`, see `aftercare::store::Inbox::insert`): `ON CONFLICT DO NOTHING` covers
//! both, so two instances inserting the same webhook, or the same body under two keys, at
//! once store it once (the second waits for the first's commit). A content key is held by
//! one row at most; a holder older than a new copy's window gives it up in the statement
//! that stores the copy (a data-modifying CTE run before the insert).
//!
//! Up to [`IN_FLIGHT`] batches of one writer are written at once, as several instances'
//! are: a batch's ids may then be committed after a later batch's, so, as between
//! instances, webhooks arriving within the same few milliseconds are not ordered by their
//! arrival (which the platforms do not promise either).
//!
//! Several instances may write at once: each batch inserts its rows in one fixed order
//! (sorted by content key, then source and key), so two batches waiting on each other's
//! uncommitted rows rarely form a cycle; PostgreSQL breaks one that does, and a batch that
//! fails as a whole (that, or one entry PostgreSQL refuses) is written again entry by
//! entry, so one bad webhook never fails its neighbours. An entry whose conflict the batch
//! statement's snapshot cannot explain (another instance committed it meanwhile) is written
//! again on its own; the others keep the batch's answers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aftercare::Error;
use aftercare::store::{InboxInsert, NewInboxEntry};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

/// The most webhooks written in one statement (9 bound values each).
const MAX_BATCH: usize = 128;
/// Batches written at once, each on its own connection: while one waits for its commit's
/// WAL flush the next is inserted, and PostgreSQL flushes commits that wait together once
/// (its own group commit). One at a time, ingest waited on each flush in turn.
const IN_FLIGHT: usize = 3;

struct Job {
    entry: NewInboxEntry,
    meta: String,
    /// `entry.content_key()`.
    content: [u8; 32],
    /// `entry.content_since()`.
    since: DateTime<Utc>,
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
        // A shop's store (`crate::shops`) names its schema in a task-local that the pool's
        // hooks read: the writer task keeps the schema of the store that started it.
        crate::shops::spawn_in_current_schema(run(pool.clone(), rx));
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
        let mut job = Job {
            content: entry.content_key(),
            since: entry.content_since(),
            entry,
            meta,
            reply,
        };
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
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    loop {
        // A batch is taken only when a slot is free: webhooks arriving meanwhile join the
        // next batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let pool = pool.clone();
        crate::shops::spawn_in_current_schema(async move {
            write_and_answer(&pool, batch).await;
            drop(slot);
        });
    }
}

async fn write_and_answer(pool: &PgPool, batch: Vec<Job>) {
    let written = if batch.len() > 1 {
        write(pool, &batch).await.ok()
    } else {
        None
    };
    let written = written.unwrap_or_else(|| batch.iter().map(|_| None).collect());
    for (job, r) in batch.into_iter().zip(written) {
        let r = match r {
            Some(r) => Ok(r),
            None => insert_one(pool, &job).await,
        };
        let _ = job.reply.send(r);
    }
}

/// What a row of an insert's answer is: made by it, stored before under the same key, or
/// stored before with the same content inside the window.
const MADE: i32 = 0;
const SAME_KEY: i32 = 1;
const SAME_CONTENT: i32 = 2;

/// Logs a webhook answered as a duplicate by its content under another key.
fn replayed(job: &Job, id: i64) {
    tracing::info!(
        source = %job.entry.source,
        dedupe_key = %job.entry.verified.dedupe_key,
        topic = job.entry.verified.topic.as_deref().unwrap_or("-"),
        existing = id,
        "same source, topic and body as a webhook stored within the content window, under another key: a duplicate, not stored"
    );
}

/// The answer from the rows found for one webhook: made, else its key's row, else the
/// latest row of its content.
fn answer(job: &Job, rows: &[(i64, i32)]) -> Option<InboxInsert> {
    let of = |kind| {
        rows.iter()
            .filter(|(_, k)| *k == kind)
            .map(|(id, _)| *id)
            .max()
    };
    if let Some(id) = of(MADE) {
        return Some(InboxInsert::Inserted(id));
    }
    if let Some(id) = of(SAME_KEY) {
        return Some(InboxInsert::Duplicate(id));
    }
    let id = of(SAME_CONTENT)?;
    replayed(job, id);
    Some(InboxInsert::Duplicate(id))
}

/// One webhook, on its own.
async fn insert_one(pool: &PgPool, job: &Job) -> Result<InboxInsert, Error> {
    let err = |e| Error::storage("insert into the inbox", e);
    let entry = &job.entry;
    let v = &entry.verified;
    // One round trip, duplicate or not: the release of an expired holder of the content,
    // the insert, and the existing rows if it made none (read in the statement's snapshot).
    let rows: Vec<(i64, i32)> = sqlx::query_as(
        "WITH rel AS (
             UPDATE inbox SET content_key = NULL WHERE content_key = $9 AND received_at < $10 RETURNING id),
         ins AS (
             INSERT INTO inbox (source, dedupe_key, topic, shop, occurred_at, meta, body, received_at, next_attempt_at, content_key)
             SELECT $1, $2, $3, $4, $5, $6::jsonb, $7, $8, $8, $9
             WHERE (SELECT count(*) FROM rel) >= 0
             ON CONFLICT DO NOTHING RETURNING id)
         SELECT id, 0 FROM ins
         UNION ALL
         SELECT id, 1 FROM inbox
         WHERE source = $1 AND dedupe_key = $2 AND NOT EXISTS (SELECT 1 FROM ins)
         UNION ALL
         SELECT id, 2 FROM inbox
         WHERE content_key = $9 AND received_at >= $10 AND NOT EXISTS (SELECT 1 FROM ins)",
    )
    .bind(&entry.source)
    .bind(&v.dedupe_key)
    .bind(&v.topic)
    .bind(&v.shop)
    .bind(v.occurred_at)
    .bind(&job.meta)
    .bind(&entry.body)
    .bind(entry.received_at)
    .bind(&job.content[..])
    .bind(job.since)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    if let Some(a) = answer(job, &rows) {
        return Ok(a);
    }
    // ON CONFLICT waited for a concurrent insert of the same key or content that committed
    // after the statement's snapshot was taken; a new statement sees it.
    let rows: Vec<(i64, i32)> = sqlx::query_as(
        "SELECT id, 1 FROM inbox WHERE source = $1 AND dedupe_key = $2
         UNION ALL
         SELECT id, 2 FROM inbox WHERE content_key = $3 AND received_at >= $4",
    )
    .bind(&entry.source)
    .bind(&v.dedupe_key)
    .bind(&job.content[..])
    .bind(job.since)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    answer(job, &rows).ok_or_else(|| {
        Error::storage(
            "insert into the inbox",
            "the webhook was neither stored nor found stored (its twin was deleted meanwhile); answer with an error so the platform delivers it again",
        )
    })
}

type Key<'a> = (&'a str, &'a str);

fn key(j: &Job) -> Key<'_> {
    (
        j.entry.source.as_str(),
        j.entry.verified.dedupe_key.as_str(),
    )
}

/// A batch in one statement; the result for each job, in order, `None` for one to write on
/// its own (what its statement's snapshot could not explain).
async fn write(pool: &PgPool, batch: &[Job]) -> Result<Vec<Option<InboxInsert>>, sqlx::Error> {
    // The rows sent: the first of each key, unless an earlier one sent has the same content
    // within its window (the later ones are their duplicates), in a fixed order.
    let mut sent = vec![false; batch.len()];
    {
        let mut keys: HashSet<Key<'_>> = HashSet::new();
        let mut contents: HashMap<&[u8; 32], usize> = HashMap::new();
        for (i, j) in batch.iter().enumerate() {
            if keys.contains(&key(j)) {
                continue;
            }
            if let Some(&f) = contents.get(&j.content)
                && batch[f].entry.received_at >= j.since
            {
                continue;
            }
            keys.insert(key(j));
            contents.insert(&j.content, i);
            sent[i] = true;
        }
    }
    let mut rows: Vec<&Job> = batch
        .iter()
        .zip(&sent)
        .filter(|(_, s)| **s)
        .map(|(j, _)| j)
        .collect();
    rows.sort_by(|a, b| (&a.content, key(a)).cmp(&(&b.content, key(b))));

    let n = rows.len();
    let p = |i: usize| i + 1;
    let mut sql = format!(
        "WITH rel AS (
             UPDATE inbox i SET content_key = NULL
             FROM unnest(${}::bytea[], ${}::timestamptz[]) AS m(content_key, since)
             WHERE i.content_key = m.content_key AND i.received_at < m.since
             RETURNING i.id),
         ins AS (
             INSERT INTO inbox (source, dedupe_key, topic, shop, occurred_at, meta, body, received_at, next_attempt_at, content_key)
             SELECT * FROM (VALUES ",
        p(n * 9),
        p(n * 9 + 1)
    );
    for i in 0..n {
        let b = i * 9;
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}::jsonb, ${}, ${}, ${}, ${})",
            p(b),
            p(b + 1),
            p(b + 2),
            p(b + 3),
            p(b + 4),
            p(b + 5),
            p(b + 6),
            p(b + 7),
            p(b + 7),
            p(b + 8),
        ));
    }
    // The rows stored before, by key or by content, come back in the same statement (its
    // snapshot); that look-up reads nothing when the insert made every row.
    sql.push_str(&format!(
        ") AS v WHERE (SELECT count(*) FROM rel) >= 0
             ON CONFLICT DO NOTHING RETURNING id, source, dedupe_key)
         SELECT id, source, dedupe_key, 0::bigint, 0 FROM ins
         UNION ALL
         SELECT i.id, i.source, i.dedupe_key, 0::bigint, 1 FROM inbox i
         JOIN unnest(${}::text[], ${}::text[]) AS m(source, dedupe_key)
           ON i.source = m.source AND i.dedupe_key = m.dedupe_key
         WHERE (SELECT count(*) FROM ins) < {n}
         UNION ALL
         SELECT i.id, i.source, i.dedupe_key, m.n, 2 FROM inbox i
         JOIN unnest(${}::bytea[], ${}::timestamptz[]) WITH ORDINALITY AS m(content_key, since, n)
           ON i.content_key = m.content_key AND i.received_at >= m.since
         WHERE (SELECT count(*) FROM ins) < {n}",
        p(n * 9 + 2),
        p(n * 9 + 3),
        p(n * 9 + 4),
        p(n * 9 + 5),
    ));
    let mut q = sqlx::query_as::<_, (i64, String, String, i64, i32)>(&sql);
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
            .bind(j.entry.received_at)
            .bind(&j.content[..]);
    }
    let sent_contents: Vec<&[u8]> = rows.iter().map(|j| &j.content[..]).collect();
    let sent_since: Vec<DateTime<Utc>> = rows.iter().map(|j| j.since).collect();
    let mut seen = HashSet::new();
    let all_keys: Vec<Key<'_>> = batch.iter().map(key).filter(|k| seen.insert(*k)).collect();
    let sources: Vec<&str> = all_keys.iter().map(|k| k.0).collect();
    let keys: Vec<&str> = all_keys.iter().map(|k| k.1).collect();
    let contents: Vec<&[u8]> = batch.iter().map(|j| &j.content[..]).collect();
    let since: Vec<DateTime<Utc>> = batch.iter().map(|j| j.since).collect();
    q = q
        .bind(&sent_contents)
        .bind(&sent_since)
        .bind(&sources)
        .bind(&keys)
        .bind(&contents)
        .bind(&since);
    // One statement: atomic on its own, one commit.
    let answered = q.fetch_all(pool).await?;
    let mut made: HashMap<(String, String), i64> = HashMap::new();
    let mut by_key: HashMap<(String, String), i64> = HashMap::new();
    // Batch position (from 1, as `WITH ORDINALITY` counts) → the latest row of its content.
    let mut by_content: HashMap<i64, i64> = HashMap::new();
    for (id, s, k, n, kind) in answered {
        match kind {
            MADE => {
                made.insert((s, k), id);
            }
            SAME_KEY => {
                by_key.insert((s, k), id);
            }
            _ => {
                let e = by_content.entry(n).or_insert(id);
                *e = (*e).max(id);
            }
        }
    }
    let made_of = |j: &Job| {
        made.get(&(j.entry.source.clone(), j.entry.verified.dedupe_key.clone()))
            .copied()
    };
    // The rows this batch made, with their content and arrival.
    let made_rows: Vec<(i64, &Job)> = rows
        .iter()
        .filter_map(|j| made_of(j).map(|id| (id, *j)))
        .collect();

    let mut results = Vec::with_capacity(batch.len());
    for (i, j) in batch.iter().enumerate() {
        let k = (j.entry.source.clone(), j.entry.verified.dedupe_key.clone());
        let r = if let (true, Some(id)) = (sent[i], made.get(&k)) {
            Some(InboxInsert::Inserted(*id))
        } else if let Some(id) = made.get(&k).or(by_key.get(&k)) {
            Some(InboxInsert::Duplicate(*id))
        } else if let Some(id) = made_rows
            .iter()
            .filter(|(_, m)| m.content == j.content && m.entry.received_at >= j.since)
            .map(|(id, _)| *id)
            .max()
            .or_else(|| by_content.get(&(i as i64 + 1)).copied())
        {
            replayed(j, id);
            Some(InboxInsert::Duplicate(id))
        } else {
            // ON CONFLICT waited for another instance's insert that committed after this
            // statement's snapshot, or the row was deleted meanwhile (a redaction): written
            // on its own, a new statement sees what happened. The rows this batch made stay
            // answered as made.
            None
        };
        results.push(r);
    }
    Ok(results)
}
