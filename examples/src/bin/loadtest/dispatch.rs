//! The dispatch phase: `messages` SMS queued with `Outbox::enqueue_many` (timed), then sent
//! by a `Dispatcher` (its default batch settings, as `Stack` builds it) through a
//! channel that only counts, paced by a strict limit (`SlidingWindow`); then, for the
//! comparison, a smaller queue sent one batch at a time (`run_once` in a loop: claim, send,
//! record, claim again, as `drain` did before it pipelined its claims) under the same
//! limit; then the store's ceiling: a smaller queue sent with no limit at all. Every
//! message must be sent once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::SystemClock;
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose, Receipt};
use aftercare::ratelimit::SlidingWindow;
use aftercare::store::{NewOutboxMessage, Outbox};
use async_trait::async_trait;

use super::BoxError;

/// Messages sent with no limit, to find the store's ceiling.
const CEILING_MESSAGES: u64 = 20_000;

/// What the phase measured.
pub(super) struct Dispatched {
    pub(super) messages: u64,
    pub(super) enqueue: Duration,
    pub(super) sent: u64,
    pub(super) elapsed: Duration,
    pub(super) limit: f64,
    /// Sends per second with no limit.
    pub(super) ceiling: Option<f64>,
    /// Sends per second under the same limit, one batch at a time (not pipelined).
    pub(super) one_batch_at_a_time: f64,
    /// Keys the channel saw more than once, and messages it never saw.
    pub(super) twice: u64,
    pub(super) not_sent: u64,
}

impl Dispatched {
    pub(super) fn rate(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64()
    }

    pub(super) fn failures(&self) -> u64 {
        self.twice + self.not_sent
    }
}

/// Records every key it is asked to send.
#[derive(Debug, Default)]
struct Counting {
    keys: Mutex<HashSet<String>>,
    twice: Mutex<u64>,
}

#[async_trait]
impl MessageChannel for Counting {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    async fn send(&self, _m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        let fresh = self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned());
        if !fresh {
            *self.twice.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
        Ok(Receipt::new(key, chrono::Utc::now()))
    }
}

async fn enqueue(outbox: &dyn Outbox, prefix: &str, n: u64) -> Result<Duration, BoxError> {
    let now = chrono::Utc::now();
    let t = Instant::now();
    // As a flow queues them: batches of 1,000 through `enqueue_many`.
    for start in (0..n).step_by(1000) {
        let batch = (start..(start + 1000).min(n))
            .map(|i| {
                let m = OutboundMessage::new(
                    ChannelKind::Sms,
                    format!("+1555{i:07}"),
                    Purpose::Transactional,
                    "Your order has shipped: https://t.example/abc",
                );
                NewOutboxMessage::new(format!("{prefix}:{i}"), m, now, "loadtest")
            })
            .collect();
        outbox.enqueue_many(batch, now).await?;
    }
    Ok(t.elapsed())
}

async fn send_all(
    outbox: Arc<dyn Outbox>,
    limit: Option<f64>,
    pipelined: bool,
) -> Result<(Arc<Counting>, Duration), BoxError> {
    let ch = Arc::new(Counting::default());
    let mut d = Dispatcher::new(outbox, Arc::new(SystemClock)).channel(ch.clone());
    if let Some(rate) = limit {
        d = d.rate_limit(ChannelKind::Sms, Arc::new(SlidingWindow::per_second(rate)));
    }
    let t = Instant::now();
    if pipelined {
        d.drain().await?;
    } else {
        while d.run_once().await? != Default::default() {}
    }
    Ok((ch, t.elapsed()))
}

pub(super) async fn run(
    outbox: Arc<dyn Outbox>,
    messages: u64,
    limit: f64,
) -> Result<Dispatched, BoxError> {
    let enqueue_time = enqueue(outbox.as_ref(), "lt", messages).await?;
    let (ch, elapsed) = send_all(outbox.clone(), Some(limit), true).await?;
    let sent = ch.keys.lock().unwrap_or_else(|e| e.into_inner()).len() as u64;
    let twice = *ch.twice.lock().unwrap_or_else(|e| e.into_inner());
    let ceiling_n = messages.min(CEILING_MESSAGES);
    enqueue(outbox.as_ref(), "batches", ceiling_n).await?;
    let (ch1, batches_time) = send_all(outbox.clone(), Some(limit), false).await?;
    let sent1 = ch1.keys.lock().unwrap_or_else(|e| e.into_inner()).len() as u64;
    let twice1 = *ch1.twice.lock().unwrap_or_else(|e| e.into_inner());
    enqueue(outbox.as_ref(), "ceiling", ceiling_n).await?;
    let (ch2, ceiling_time) = send_all(outbox, None, true).await?;
    let sent2 = ch2.keys.lock().unwrap_or_else(|e| e.into_inner()).len() as u64;
    let twice2 = *ch2.twice.lock().unwrap_or_else(|e| e.into_inner());
    Ok(Dispatched {
        messages,
        enqueue: enqueue_time,
        sent,
        elapsed,
        limit,
        ceiling: Some(sent2 as f64 / ceiling_time.as_secs_f64()),
        one_batch_at_a_time: sent1 as f64 / batches_time.as_secs_f64(),
        twice: twice + twice1 + twice2,
        not_sent: (messages - sent.min(messages)) + 2 * ceiling_n
            - sent1.min(ceiling_n)
            - sent2.min(ceiling_n),
    })
}
