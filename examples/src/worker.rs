//! The dispatcher as a worker process: sends what is due from a SQLite outbox through the
//! sandbox channels (recorded to a JSON-lines file), until nothing is left.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::SystemClock;
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, OutboundMessage, Receipt};
use aftercare::store::{Outbox, OutboxStatus};
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;

/// A channel that takes `delay` per send, like a slow provider, and counts its sends.
#[derive(Debug)]
pub struct Slow<C> {
    inner: C,
    delay: Duration,
    sent: Arc<AtomicUsize>,
}

impl<C> Slow<C> {
    /// Wraps a channel.
    pub fn new(inner: C, delay: Duration) -> Self {
        Self {
            inner,
            delay,
            sent: Arc::default(),
        }
    }

    /// How many sends succeeded so far (shared by clones of the counter).
    pub fn sent_counter(&self) -> Arc<AtomicUsize> {
        self.sent.clone()
    }
}

/// What one `dispatch` run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DispatchSummary {
    /// Messages sent, per channel, in channel order (SMS, WhatsApp, email).
    pub sent: Vec<(ChannelKind, usize)>,
}

impl std::fmt::Display for DispatchSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: usize = self.sent.iter().map(|(_, n)| n).sum();
        let per: Vec<String> = self
            .sent
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{} {n}", k.as_str()))
            .collect();
        write!(
            f,
            "sent {total} message{}",
            if total == 1 { "" } else { "s" }
        )?;
        if !per.is_empty() {
            write!(f, " ({})", per.join(", "))?;
        }
        f.write_str("; nothing left pending")
    }
}

#[async_trait]
impl<C: MessageChannel> MessageChannel for Slow<C> {
    fn kind(&self) -> ChannelKind {
        self.inner.kind()
    }
    async fn send(&self, m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        tokio::time::sleep(self.delay).await;
        let r = self.inner.send(m, key).await;
        if r.is_ok() {
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
}

/// Runs the dispatcher over `db` until the outbox has nothing pending or sending; each
/// send takes `delay` and is appended to `log`. Says what it did.
pub async fn dispatch_until_idle(
    db: &Path,
    log: &Path,
    delay: Duration,
    lease: Duration,
    concurrency: usize,
) -> Result<DispatchSummary, aftercare::Error> {
    // Opening a missing file would create an empty outbox and "send" nothing.
    if !db.is_file() {
        return Err(aftercare::Error::Config(format!(
            "{}: no such database",
            db.display()
        )));
    }
    let mut counters = Vec::new();
    let store = SqliteStore::open(db)
        .await
        .map_err(|e| aftercare::Error::Config(e.to_string()))?;
    let mut d = Dispatcher::new(Arc::new(store.clone()), Arc::new(SystemClock))
        .lease(lease)
        .batch(concurrency as u32, concurrency)
        .consent_store(Arc::new(store.clone()));
    for kind in [ChannelKind::Sms, ChannelKind::Whatsapp, ChannelKind::Email] {
        let ch = Slow::new(RecordingChannel::new(kind).jsonl(log), delay);
        counters.push((kind, ch.sent_counter()));
        d = d.channel(Arc::new(ch));
    }
    loop {
        d.drain().await?;
        let pending = store.outbox_in(OutboxStatus::Pending, 1).await?.len()
            + store.outbox_in(OutboxStatus::Sending, 1).await?.len();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.close().await;
    Ok(DispatchSummary {
        sent: counters
            .into_iter()
            .map(|(k, n)| (k, n.load(Ordering::Relaxed)))
            .collect(),
    })
}
