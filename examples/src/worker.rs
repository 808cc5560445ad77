//! The dispatcher as a worker process: sends what is due from a SQLite outbox through the
//! sandbox channels (recorded to a JSON-lines file), until nothing is left.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::SystemClock;
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, OutboundMessage, Receipt};
use aftercare::store::{Outbox, OutboxStatus};
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;

/// A channel that takes `delay` per send, like a slow provider.
#[derive(Debug)]
pub struct Slow<C> {
    inner: C,
    delay: Duration,
}

impl<C> Slow<C> {
    /// Wraps a channel.
    pub fn new(inner: C, delay: Duration) -> Self {
        Self { inner, delay }
    }
}

#[async_trait]
impl<C: MessageChannel> MessageChannel for Slow<C> {
    fn kind(&self) -> ChannelKind {
        self.inner.kind()
    }
    async fn send(&self, m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        tokio::time::sleep(self.delay).await;
        self.inner.send(m, key).await
    }
}

/// Runs the dispatcher over `db` until the outbox has nothing pending or sending; each
/// send takes `delay` and is appended to `log`.
pub async fn dispatch_until_idle(
    db: &Path,
    log: &Path,
    delay: Duration,
    lease: Duration,
    concurrency: usize,
) -> Result<(), aftercare::Error> {
    let store = SqliteStore::open(db)
        .await
        .map_err(|e| aftercare::Error::Config(e.to_string()))?;
    let mut d = Dispatcher::new(Arc::new(store.clone()), Arc::new(SystemClock))
        .lease(lease)
        .batch(concurrency as u32, concurrency)
        .consent_store(Arc::new(store.clone()));
    for kind in [ChannelKind::Sms, ChannelKind::Whatsapp, ChannelKind::Email] {
        d = d.channel(Arc::new(Slow::new(
            RecordingChannel::new(kind).jsonl(log),
            delay,
        )));
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
    Ok(())
}
