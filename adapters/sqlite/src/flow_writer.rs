//! Group commit for the flows' writes: snapshots (`SnapshotStore::put_if_newer`), ledger rows
//! (`Ledger::record`) and messages (`Outbox::enqueue`) that callers ask for at the same time
//! share one transaction on one connection, so a processor running many orders at once pays
//! one `BEGIN`/`COMMIT` (one WAL commit, one turn of the store's write lock, one round of
//! SQLite's file locks) per group instead of per write.
//!
//! Transparent to the sdk API: each caller still waits for its own answer, and gets it only
//! after the group's commit, so a write that returned is stored exactly as before, and a
//! crash before the commit loses only writes whose callers never heard back (the inbox entry
//! that asked for them is not complete, and is processed again). The writes of a group run
//! in the order they were asked for; a caller's next write waits for its previous one, so
//! the writes of one order stay in order. A lone write is committed at once (no waiting for
//! company). When any write of a group fails, the group is rolled back and each write is
//! retried in a transaction of its own, so one bad write never fails another caller.

use std::sync::Mutex;

use aftercare::Error;
use aftercare::store::{Enqueue, LedgerEntry, NewOutboxMessage, Snapshot};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

/// The most writes in one transaction.
const MAX_GROUP: usize = 256;

/// One write of a flow.
pub(crate) enum Op {
    /// `SnapshotStore::put_if_newer`.
    Snapshot(Snapshot),
    /// `Ledger::record`.
    Ledger(LedgerEntry),
    /// `Outbox::enqueue`.
    Enqueue(Box<NewOutboxMessage>, DateTime<Utc>),
}

impl Op {
    fn what(&self) -> &'static str {
        match self {
            Op::Snapshot(_) => "store a snapshot",
            Op::Ledger(_) => "write the ledger",
            Op::Enqueue(..) => "enqueue a message",
        }
    }
}

/// What a write did.
#[derive(Debug)]
pub(crate) enum Done {
    /// Whether the snapshot was stored (not older than the stored one).
    Stored(bool),
    /// The ledger row is written.
    Recorded,
    /// The message is queued (or was already).
    Enqueued(Enqueue),
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Done, Error>>,
}

/// Hands flow writes to a writer task on the current tokio runtime, starting one when needed.
#[derive(Debug)]
pub(crate) struct FlowWriter {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    /// The store's turn to write (`SqliteStore::writing`), taken for each group.
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl FlowWriter {
    pub(crate) fn new(write_lock: std::sync::Arc<tokio::sync::Mutex<()>>) -> Self {
        Self {
            tx: Mutex::default(),
            write_lock,
        }
    }

    fn sender(&self, pool: &SqlitePool) -> mpsc::Sender<Job> {
        let mut guard = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = guard.as_ref()
            && !tx.is_closed()
        {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(run(pool.clone(), rx, self.write_lock.clone()));
        *guard = Some(tx.clone());
        tx
    }

    /// Lets the writer task end (and give its connection back) once its queue is empty.
    pub(crate) fn shutdown(&self) {
        *self.tx.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Applies one write in the next group commit; answers after the commit.
    pub(crate) async fn write(&self, pool: &SqlitePool, op: Op) -> Result<Done, Error> {
        let what = op.what();
        let (reply, rx) = oneshot::channel();
        let mut job = Job { op, reply };
        // A writer whose runtime has gone away is replaced once.
        for _ in 0..2 {
            match self.sender(pool).send(job).await {
                Ok(()) => {
                    return rx.await.map_err(|_| {
                        Error::storage(what, "the flow writer stopped before answering")
                    })?;
                }
                Err(mpsc::error::SendError(j)) => {
                    job = j;
                    *self.tx.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
            }
        }
        Err(Error::storage(what, "no flow writer could be started"))
    }
}

async fn run(
    pool: SqlitePool,
    mut rx: mpsc::Receiver<Job>,
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
) {
    // The writer keeps one connection for itself: no pool round trip per group.
    let mut conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>> = None;
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            conn = pool.acquire().await.ok();
        }
        let Some(c) = conn.as_mut() else {
            for job in group {
                let _ = job.reply.send(Err(Error::storage(
                    job.op.what(),
                    "no connection for the flow writer",
                )));
            }
            continue;
        };
        let _turn = write_lock.lock().await;
        match apply_group(c, &group).await {
            Ok(results) => {
                for (job, r) in group.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            Err(_) if group.len() > 1 => {
                // One write (or the commit) failed: nothing of the group is stored. Each is
                // tried again alone, so only the failing one reports an error.
                let mut any_ok = false;
                for job in group {
                    let r = apply_group(c, std::slice::from_ref(&job))
                        .await
                        .map(|mut v| v.remove(0))
                        .map_err(|e| Error::storage(job.op.what(), e.to_string()));
                    any_ok |= r.is_ok();
                    let _ = job.reply.send(r);
                }
                if !any_ok {
                    // A broken connection is not reused.
                    conn = None;
                }
            }
            Err(e) => {
                // A broken connection is not reused.
                conn = None;
                for job in group {
                    let _ = job
                        .reply
                        .send(Err(Error::storage(job.op.what(), e.to_string())));
                }
            }
        }
    }
}

/// The group's writes in one transaction, in order: all stored, or none.
async fn apply_group(
    conn: &mut sqlx::SqliteConnection,
    group: &[Job],
) -> Result<Vec<Done>, sqlx::Error> {
    use sqlx::Connection as _;
    let mut tx = conn.begin().await?;
    let mut out = Vec::with_capacity(group.len());
    for job in group {
        out.push(apply(&mut tx, &job.op).await?);
    }
    tx.commit().await?;
    Ok(out)
}

async fn apply(conn: &mut sqlx::SqliteConnection, op: &Op) -> Result<Done, sqlx::Error> {
    Ok(match op {
        Op::Snapshot(s) => Done::Stored(crate::store::put_snapshot_in(conn, s).await?),
        Op::Ledger(e) => {
            crate::store::record_in(conn, e).await?;
            Done::Recorded
        }
        Op::Enqueue(m, now) => Done::Enqueued(crate::store::enqueue_in(conn, m, *now).await?),
    })
}
