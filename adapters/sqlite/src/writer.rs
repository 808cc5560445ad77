//! Group commit for the inbox: webhooks that arrive together are inserted together, in one
//! multi-row statement and one transaction, so a burst costs one WAL commit instead of one
//! per webhook. A lone webhook is written at once (no waiting for company).

use std::collections::HashMap;
use std::sync::Mutex;

use aftercare::Error;

use crate::codec::{self, Codec};
use aftercare::store::{InboxInsert, NewInboxEntry};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

/// The most webhooks written in one statement (10 bound values each).
const MAX_BATCH: usize = 64;

struct Job {
    /// Its body is the stored form, encoded by `codec`.
    entry: NewInboxEntry,
    codec: Codec,
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
        mut entry: NewInboxEntry,
    ) -> Result<InboxInsert, Error> {
        let meta = serde_json::to_string(&entry.verified.meta)
            .map_err(|e| Error::decode("inbox meta", e))?;
        // Compressed here, in the caller's task, so a burst's bodies are compressed on the
        // callers' threads while the writer commits the previous batch.
        let (stored, codec) = codec::encode(std::mem::take(&mut entry.body));
        entry.body = stored;
        let (reply, rx) = oneshot::channel();
        let mut job = Job {
            entry,
            codec,
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
                    let _ = job.reply.send(r);
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
    conn: &mut sqlx::SqliteConnection,
    batch: &[Job],
) -> Result<Vec<Result<InboxInsert, Error>>, sqlx::Error> {
    // Two statements sent together, so a batch costs one round trip to the connection's
    // thread: the insert returns the rows it made (flag 1); then, only if it skipped some
    // (`changes()` short of the batch), the ids the batch's keys have (flag 0). Each
    // statement is atomic on its own; no explicit transaction is needed.
    let mut sql = String::from(
        "INSERT INTO inbox (source, dedupe_key, topic, shop, occurred_at, meta, body, body_codec, received_at, next_attempt_at) VALUES ",
    );
    for i in 0..batch.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    // The lookup walks the batch's keys through the unique index (CROSS JOIN keeps that
    // order); its LIMIT is 0, so it reads nothing at all, when the insert skipped no row.
    sql.push_str(
        " ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id, source, dedupe_key, 1;
         SELECT inbox.id, inbox.source, inbox.dedupe_key, 0 FROM (VALUES ",
    );
    for i in 0..batch.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?, ?)");
    }
    sql.push_str(
        ") AS k CROSS JOIN inbox ON inbox.source = k.column1 AND inbox.dedupe_key = k.column2
         LIMIT CASE WHEN changes() < ? THEN -1 ELSE 0 END",
    );
    let mut q = sqlx::query_as::<_, (i64, String, String, i64)>(&sql);
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
            .bind(j.codec.as_str())
            .bind(received)
            .bind(received);
    }
    for j in batch {
        q = q.bind(&j.entry.source).bind(&j.entry.verified.dedupe_key);
    }
    q = q.bind(i64::try_from(batch.len()).unwrap_or(i64::MAX));
    let rows = q.fetch_all(&mut *conn).await?;
    let mut new_ids: HashMap<(&str, &str), i64> = HashMap::with_capacity(rows.len());
    let mut old_ids: HashMap<(&str, &str), i64> = HashMap::new();
    for (id, source, key, made) in &rows {
        let k = (source.as_str(), key.as_str());
        if *made == 1 {
            new_ids.insert(k, *id);
        } else {
            old_ids.insert(k, *id);
        }
    }
    let mut results = Vec::with_capacity(batch.len());
    let mut claimed: HashMap<(&str, &str), ()> = HashMap::new();
    for j in batch {
        let k = (
            j.entry.source.as_str(),
            j.entry.verified.dedupe_key.as_str(),
        );
        let r = match (new_ids.get(&k), old_ids.get(&k)) {
            (Some(id), _) if claimed.insert(k, ()).is_none() => Ok(InboxInsert::Inserted(*id)),
            (Some(id), _) | (None, Some(id)) => Ok(InboxInsert::Duplicate(*id)),
            (None, None) => {
                // Stored before, then deleted (retention, redaction) between the two
                // statements: this copy is neither new nor a known duplicate.
                let id: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM inbox WHERE source = ? AND dedupe_key = ?")
                        .bind(k.0)
                        .bind(k.1)
                        .fetch_optional(&mut *conn)
                        .await?;
                match id {
                    Some(id) => Ok(InboxInsert::Duplicate(id)),
                    None => Err(Error::storage(
                        "insert into the inbox",
                        "an earlier copy of this webhook was deleted while this one was being stored; answer with an error so the platform delivers it again",
                    )),
                }
            }
        };
        results.push(r);
    }
    Ok(results)
}
