//! WAL checkpoints off the writer's path.
//!
//! SQLite's automatic checkpoint runs inside the commit that takes the WAL past its
//! threshold: that commit copies every changed page into the database and fsyncs twice
//! before it returns, and the store's one writer (and every acknowledgement behind it)
//! waits 90–140 ms on a busy disk. Here automatic checkpoints are off and a task runs a
//! `PASSIVE` checkpoint on a connection of its own every [`INTERVAL`]: it takes no write
//! lock, so commits carry on while it copies and fsyncs, and once it has copied the whole
//! WAL the next commit starts the WAL from its beginning again. When commits outpace it
//! (or a long reader pins old pages) and more than [`MAX_WAL_PAGES`] are left, it runs a
//! `RESTART` checkpoint, which waits for the writer between two commits and resets the WAL:
//! the file stays bounded.

use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::sqlite::SqliteConnectOptions;
use tokio::sync::watch;

/// How often the WAL is checkpointed.
pub(crate) const INTERVAL: Duration = Duration::from_millis(250);
/// Pages left in the WAL after a passive checkpoint above which a restart is forced
/// (~64 MB with 4 KB pages).
pub(crate) const MAX_WAL_PAGES: i64 = 16_384;

/// The checkpoint task's handle: stops it when dropped (with the store's last clone) or
/// on [`Checkpointer::stop`].
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: watch::Sender<bool>,
    done: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Checkpointer {
    pub(crate) fn start(opts: SqliteConnectOptions) -> Self {
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(run(opts, rx));
        Self {
            stop,
            done: tokio::sync::Mutex::new(Some(task)),
        }
    }

    /// Stops the task and waits for its connection to close.
    pub(crate) async fn stop(&self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.done.lock().await.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn run(opts: SqliteConnectOptions, mut stop: watch::Receiver<bool>) {
    let mut conn: Option<sqlx::SqliteConnection> = None;
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            _ = tokio::time::sleep(INTERVAL) => {
                if conn.is_none() {
                    match opts.connect().await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            tracing::warn!(error = %e, "could not open the checkpoint connection");
                            continue;
                        }
                    }
                }
                if let Some(c) = conn.as_mut()
                    && let Err(e) = checkpoint(c).await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                    conn = None;
                }
            }
        }
    }
    if let Some(c) = conn {
        let _ = sqlx::Connection::close(c).await;
    }
}

/// One passive checkpoint, and a restart when it left too much behind.
pub(crate) async fn checkpoint(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let (_busy, log, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *conn)
        .await?;
    if log - copied > MAX_WAL_PAGES || log > 4 * MAX_WAL_PAGES {
        let _: (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
            .fetch_one(&mut *conn)
            .await?;
    }
    Ok(())
}
