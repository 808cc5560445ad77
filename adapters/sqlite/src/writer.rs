//! Group commit for the inbox: webhooks that arrive together are inserted together, in one
//! multi-row statement and one transaction, so a burst costs one WAL commit instead of one
//! per webhook. A lone webhook is written at once (no waiting for company).

use std::collections::HashMap;
use std::sync::Mutex;

use aftercare::Error;
use aftercare::store::{InboxInsert, NewInboxEntry};
use sqlx::SqlitePool;
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
    fn sender(&self, pool: &SqlitePool) -> mpsc::Sender<Job> {
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

    /// Lets the writer task end (and give its connection back) once its queue is empty.
    pub(crate) fn shutdown(&self) {
        *self.tx.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub(crate) async fn insert(
        &self,
        pool: &SqlitePool,
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

async fn run(pool: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    // The writer keeps one connection for itself: no pool round trip per batch.
    let mut conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            conn = pool.acquire().await.ok();
        }
        let result = match conn.as_mut() {
            Some(c) => write(c, &batch).await,
            None => Err(sqlx::Error::PoolClosed),
        };
        if result.is_err() {
            // A broken connection is not reused.
            conn = None;
        }
        match result {
            Ok(results) => {
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for job in batch {
                    let _ = job
                        .reply
                        .send(Err(Error::storage("insert into the inbox", msg.clone())));
                }
            }
        }
    }
}

async fn write(
    pool: &mut sqlx::SqliteConnection,
    batch: &[Job],
) -> Result<Vec<InboxInsert>, sqlx::Error> {
    let mut sql = String::from(
        "INSERT INTO inbox (source, dedupe_key, topic, shop, occurred_at, meta, body, received_at, next_attempt_at) VALUES ",
    );
    for i in 0..batch.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql.push_str(" ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id, source, dedupe_key");
    let mut q = sqlx::query_as::<_, (i64, String, String)>(&sql);
    for j in batch {
        let v = &j.entry.verified;
        let received = j.entry.received_at.timestamp_micros();
        q = q
            .bind(&j.entry.source)
            .bind(&v.dedupe_key)
            .bind(&v.topic)
            .bind(&v.shop)
            .bind(v.occurred_at.map(|t| t.timestamp_micros()))
            .bind(&j.meta)
            .bind(&j.entry.body)
            .bind(received)
            .bind(received);
    }
    // One statement: atomic on its own, so no explicit transaction (and no extra round
    // trips to the connection's thread). Duplicates are looked up afterwards: they exist.
    let inserted = q.fetch_all(&mut *pool).await?;
    let mut new_ids: HashMap<(&str, &str), i64> = HashMap::new();
    for (id, source, key) in &inserted {
        if let Some(j) = batch
            .iter()
            .find(|j| j.entry.source == *source && j.entry.verified.dedupe_key == *key)
        {
            new_ids.insert(
                (
                    j.entry.source.as_str(),
                    j.entry.verified.dedupe_key.as_str(),
                ),
                *id,
            );
        }
    }
    let mut results = Vec::with_capacity(batch.len());
    let mut claimed: HashMap<(&str, &str), ()> = HashMap::new();
    for j in batch {
        let k = (
            j.entry.source.as_str(),
            j.entry.verified.dedupe_key.as_str(),
        );
        let r = match new_ids.get(&k) {
            Some(id) if claimed.insert(k, ()).is_none() => InboxInsert::Inserted(*id),
            Some(id) => InboxInsert::Duplicate(*id),
            None => {
                let id: i64 =
                    sqlx::query_scalar("SELECT id FROM inbox WHERE source = ? AND dedupe_key = ?")
                        .bind(k.0)
                        .bind(k.1)
                        .fetch_one(&mut *pool)
                        .await?;
                InboxInsert::Duplicate(id)
            }
        };
        results.push(r);
    }
    Ok(results)
}
