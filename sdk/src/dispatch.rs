//! The dispatcher: claims due messages from the outbox, applies the send policies, sends
//! through the channels, and records every outcome in the ledger.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;

use crate::Error;
use crate::backoff::RetryPolicy;
use crate::channel::{MessageChannel, SendError};
use crate::clock::Clock;
use crate::model::{ChannelKind, ConsentState};
use crate::optout::confirms;
use crate::ratelimit::RateLimit;
use crate::store::{
    Claimed, ConsentRecord, ConsentStore, Decision, Outbox, OutboxEntry, OutboxStatus, SentRecord,
};

/// What a [`SendPolicy`] decides about a message that is due.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Go ahead.
    Send,
    /// Not now: try again at `until` (quiet hours, a closed window).
    Defer {
        /// When to try again.
        until: DateTime<Utc>,
        /// Why, for the ledger.
        reason: String,
    },
    /// Never: skip it (no consent, superseded).
    Skip {
        /// Why, for the ledger.
        reason: String,
    },
}

/// A rule checked just before a message is sent (consent, quiet hours, ...).
/// The first rule that does not say [`Verdict::Send`] wins.
#[async_trait]
pub trait SendPolicy: Send + Sync {
    /// Judges a due message.
    async fn check(&self, entry: &OutboxEntry, now: DateTime<Utc>) -> Result<Verdict, Error>;
}

/// Skips messages to an address that has refused this purpose on this channel.
#[derive(Clone)]
pub struct ConsentPolicy {
    store: Arc<dyn ConsentStore>,
}

impl std::fmt::Debug for ConsentPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsentPolicy")
    }
}

impl ConsentPolicy {
    /// A policy reading the consent store.
    pub fn new(store: Arc<dyn ConsentStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl SendPolicy for ConsentPolicy {
    async fn check(&self, entry: &OutboxEntry, _now: DateTime<Utc>) -> Result<Verdict, Error> {
        let m = &entry.message;
        Ok(
            match self.store.consent(m.channel, &m.to, m.purpose).await? {
                // The one confirmation of this opt-out: see `crate::optout::confirms`.
                Some(r) if r.state == ConsentState::Denied && confirms(m, &r.source) => {
                    Verdict::Send
                }
                Some(r) if r.state == ConsentState::Denied => Verdict::Skip {
                    reason: format!(
                        "recipient refused {} messages on {} ({} at {})",
                        m.purpose.as_str(),
                        m.channel,
                        r.source,
                        r.at.to_rfc3339()
                    ),
                },
                _ => Verdict::Send,
            },
        )
    }
}

/// What one pass of the dispatcher did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DispatchReport {
    /// Sent.
    pub sent: u32,
    /// Deferred or left for retry.
    pub rescheduled: u32,
    /// Skipped on purpose.
    pub skipped: u32,
    /// Dead-lettered.
    pub dead: u32,
    /// Left uncertain (may have been sent).
    pub uncertain: u32,
    /// Claims lost to another dispatcher (nothing recorded by this one).
    pub lost: u32,
}

impl DispatchReport {
    fn total(&self) -> u32 {
        self.sent + self.rescheduled + self.skipped + self.dead + self.uncertain + self.lost
    }

    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Sent => self.sent += 1,
            Outcome::Rescheduled => self.rescheduled += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Dead => self.dead += 1,
            Outcome::Uncertain => self.uncertain += 1,
            Outcome::Lost => self.lost += 1,
        }
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Sent,
    Rescheduled,
    Skipped,
    Dead,
    Uncertain,
    Lost,
}

/// Sends what is due in the outbox, at most once per key.
///
/// - Policies run first; a deferral or skip is ledgered with its reason.
/// - A channel's rate limit is awaited before each send, shared by all tasks.
/// - Transient failures are retried with exponential backoff and jitter, never sooner than
///   the provider's `Retry-After`; permanent ones are dead-lettered (an opt-out is also
///   stored in the consent store); "may have been sent" is recorded as uncertain, not
///   retried here: an [`UncertainResolver`](crate::uncertain::UncertainResolver) settles it
///   (reconciled, resent once, or abandoned, by purpose).
/// - A message found `sending` under an expired claim was in flight when a dispatcher
///   stopped: it is sent again and the ledger says so.
///
/// Throughput: sends finishing together are recorded together
/// ([`Outbox::mark_sent_many`], one transaction: group commit), each send still waiting for
/// its record before it counts (its `concurrency` turn is free again once the channel has
/// answered). [`Dispatcher::drain`] claims the next messages while the last are sent, but
/// never holds more than `batch` claimed and unfinished: a crash leaves no more to be
/// recovered as "may have been sent" than one batch, as when batches did not overlap.
pub struct Dispatcher {
    outbox: Arc<dyn Outbox>,
    channels: HashMap<ChannelKind, Arc<dyn MessageChannel>>,
    limits: HashMap<ChannelKind, Arc<dyn RateLimit>>,
    by_segment: std::collections::HashSet<ChannelKind>,
    policies: Vec<Arc<dyn SendPolicy>>,
    consent: Option<Arc<dyn ConsentStore>>,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    batch: u32,
    concurrency: usize,
    lease: Duration,
    /// Sends in flight across overlapping batches: at most `concurrency`.
    sending: Arc<tokio::sync::Semaphore>,
    sent: SentQueue,
}

/// Where a send's record is answered: `false` if its claim was lost.
type Reply = tokio::sync::oneshot::Sender<Result<bool, Error>>;

/// Sends waiting for their record: each handled message adds its own, and one of them at a
/// time writes every waiting record with one [`Outbox::mark_sent_many`] (group commit).
#[derive(Default)]
struct SentQueue {
    waiting: std::sync::Mutex<Vec<(SentRecord, Reply)>>,
    turn: tokio::sync::Mutex<()>,
}

impl SentQueue {
    /// Records one send, with whatever else is waiting; `false` if its claim was lost.
    async fn record(
        &self,
        outbox: &dyn Outbox,
        clock: &dyn Clock,
        send: SentRecord,
    ) -> Result<bool, Error> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((send, tx));
        let turn = self.turn.lock().await;
        // Written by the one before (whose batch took it along)?
        match rx.try_recv() {
            Ok(answer) => return answer,
            Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                return Err(lost_record());
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
        }
        let batch = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        let (sends, replies): (Vec<SentRecord>, Vec<_>) = batch.into_iter().unzip();
        match outbox.mark_sent_many(&sends, clock.now()).await {
            Ok(answers) if answers.len() == replies.len() => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Ok(_) => {
                for reply in replies {
                    let _ = reply.send(Err(Error::storage(
                        "record sent messages",
                        "the store answered for a different number of sends than it was given",
                    )));
                }
            }
            Err(e) => {
                let why = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(Error::storage("record sent messages", why.clone())));
                }
            }
        }
        drop(turn);
        rx.await.unwrap_or_else(|_| Err(lost_record()))
    }
}

fn lost_record() -> Error {
    Error::storage(
        "record a sent message",
        "the batch recording it was cancelled; the message stays `sending` until its claim expires",
    )
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("channels", &self.channels.keys().collect::<Vec<_>>())
            .field("retry", &self.retry)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher over an outbox, with no channels yet.
    pub fn new(outbox: Arc<dyn Outbox>, clock: Arc<dyn Clock>) -> Self {
        Self {
            outbox,
            channels: HashMap::new(),
            limits: HashMap::new(),
            by_segment: Default::default(),
            policies: Vec::new(),
            consent: None,
            clock,
            retry: RetryPolicy::default(),
            batch: 64,
            concurrency: 8,
            lease: Duration::from_secs(5 * 60),
            sending: Arc::new(tokio::sync::Semaphore::new(8)),
            sent: SentQueue::default(),
        }
    }

    /// Adds a channel (replacing any other of the same kind).
    pub fn channel(mut self, channel: Arc<dyn MessageChannel>) -> Self {
        self.channels.insert(channel.kind(), channel);
        self
    }

    /// The channels added, e.g. to give an
    /// [`UncertainResolver`](crate::uncertain::UncertainResolver) the same ones.
    pub fn channels(&self) -> impl Iterator<Item = &Arc<dyn MessageChannel>> {
        self.channels.values()
    }

    /// Paces a channel with a shared rate limit, one permit per message.
    pub fn rate_limit(mut self, kind: ChannelKind, limit: Arc<dyn RateLimit>) -> Self {
        self.by_segment.remove(&kind);
        self.limits.insert(kind, limit);
        self
    }

    /// Paces SMS with a shared rate limit counting segments, for providers whose limits
    /// are per segment (an SMS of 3 segments takes 3 permits; see [`crate::sms`]).
    pub fn rate_limit_by_segment(mut self, kind: ChannelKind, limit: Arc<dyn RateLimit>) -> Self {
        self.by_segment.insert(kind);
        self.limits.insert(kind, limit);
        self
    }

    /// Adds a policy, checked in the order added.
    pub fn policy(mut self, policy: Arc<dyn SendPolicy>) -> Self {
        self.policies.push(policy);
        self
    }

    /// Checks consent before sending and records opt-outs reported by providers.
    pub fn consent_store(mut self, store: Arc<dyn ConsentStore>) -> Self {
        self.policies
            .insert(0, Arc::new(ConsentPolicy::new(store.clone())));
        self.consent = Some(store);
        self
    }

    /// Sets the retry policy for transient failures.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how many messages are claimed at once and sent concurrently.
    pub fn batch(mut self, batch: u32, concurrency: usize) -> Self {
        self.batch = batch.max(1);
        self.concurrency = concurrency.max(1);
        self.sending = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        self
    }

    /// Sets the claim lease; it must be longer than the slowest send.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Claims and handles one batch of due messages.
    pub async fn run_once(&self) -> Result<DispatchReport, Error> {
        let now = self.clock.now();
        let claimed = self.outbox.claim_due(now, self.batch, self.lease).await?;
        let outcomes: Vec<Result<Outcome, Error>> = futures::stream::iter(claimed)
            .map(|c| self.handle_in_turn(c))
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut report = DispatchReport::default();
        for o in outcomes {
            report.add(o?);
        }
        Ok(report)
    }

    /// Handles a claimed message once one of the `concurrency` turns is free (whoever calls
    /// `run_once` or `drain`). The turn is given back as soon as the channel has answered:
    /// the send's record (a group commit with the others finishing then) does not hold up
    /// the next send, and unrecorded sends stay among the claimed, unfinished messages (at
    /// most `batch`).
    async fn handle_in_turn(&self, c: Claimed) -> Result<Outcome, Error> {
        let turn = self.sending.acquire().await.ok();
        self.handle(c, turn).await
    }

    /// Dispatches until nothing is due now; returns the totals.
    ///
    /// Pipelined: at most `batch` messages are claimed and not yet finished at any time (as
    /// when one batch is claimed after the last is finished, so a crash leaves no more
    /// claims to recover), but the claims are topped up once half of them are finished,
    /// while the rest are still being sent: a rate-limited channel is never left waiting
    /// for a claim or for the last records of a batch (a strict limiter never makes up a
    /// missed pace). It ends when a claim made with nothing in flight finds nothing due.
    pub async fn drain(&self) -> Result<DispatchReport, Error> {
        use std::task::Poll;

        enum Event {
            Claimed(Result<Vec<Claimed>, Error>),
            Done(Result<Outcome, Error>),
        }
        let mut total = DispatchReport::default();
        let mut handling = futures::stream::FuturesUnordered::new();
        let mut claim: Option<futures::future::BoxFuture<'_, Result<Vec<Claimed>, Error>>> = None;
        // Claimed and not finished.
        let mut outstanding: u32 = 0;
        // The messages in flight when the pending claim was made.
        let mut flight_at_claim = 0_usize;
        // The last claim found nothing due: claim again only once nothing is in flight.
        let mut dry = false;
        let mut failed: Option<Error> = None;
        let top_up = (self.batch / 2).max(1);
        loop {
            let room = self.batch.saturating_sub(outstanding);
            let want = if dry {
                handling.is_empty()
            } else {
                room >= top_up
            };
            if claim.is_none() && failed.is_none() && want && room > 0 {
                flight_at_claim = handling.len();
                claim = Some(self.outbox.claim_due(self.clock.now(), room, self.lease));
            }
            if claim.is_none() && handling.is_empty() {
                return match failed {
                    Some(e) => Err(e),
                    None => Ok(total),
                };
            }
            let event = std::future::poll_fn(|cx| {
                if let Some(f) = claim.as_mut()
                    && let Poll::Ready(r) = f.as_mut().poll(cx)
                {
                    return Poll::Ready(Event::Claimed(r));
                }
                match handling.poll_next_unpin(cx) {
                    Poll::Ready(Some(o)) => Poll::Ready(Event::Done(o)),
                    _ => Poll::Pending,
                }
            })
            .await;
            match event {
                Event::Claimed(r) => {
                    claim = None;
                    match r {
                        Ok(batch) if batch.is_empty() => {
                            if flight_at_claim == 0 && handling.is_empty() {
                                return Ok(total);
                            }
                            dry = true;
                        }
                        Ok(batch) => {
                            dry = false;
                            outstanding += u32::try_from(batch.len()).unwrap_or(u32::MAX);
                            for c in batch {
                                handling.push(self.handle_in_turn(c));
                            }
                        }
                        // What is in flight still finishes (and is recorded) first.
                        Err(e) => failed = Some(e),
                    }
                }
                Event::Done(o) => {
                    outstanding = outstanding.saturating_sub(1);
                    match o {
                        Ok(o) => total.add(o),
                        Err(e) => {
                            failed.get_or_insert(e);
                        }
                    }
                }
            }
        }
    }

    /// Runs until `shutdown` resolves, polling every `interval` when idle.
    pub async fn run(&self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let idle = match self.drain().await {
                Ok(r) => r.total() == 0,
                Err(e) => {
                    tracing::error!(error = %e, "dispatch failed; backing off");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        }
    }

    async fn handle(
        &self,
        c: Claimed,
        turn: Option<tokio::sync::SemaphorePermit<'_>>,
    ) -> Result<Outcome, Error> {
        let Claimed {
            entry,
            attempt,
            recovered,
        } = c;
        let id = entry.id;
        let now = self.clock.now();
        for p in &self.policies {
            match p.check(&entry, now).await? {
                Verdict::Send => {}
                Verdict::Defer { until, reason } => {
                    let ok = self
                        .outbox
                        .reschedule(id, attempt, until, Decision::Deferred, &reason, now)
                        .await?;
                    return Ok(if ok {
                        Outcome::Rescheduled
                    } else {
                        Outcome::Lost
                    });
                }
                Verdict::Skip { reason } => {
                    return self
                        .finish(id, attempt, OutboxStatus::Skipped, &reason)
                        .await;
                }
            }
        }
        let kind = entry.message.channel;
        let Some(channel) = self.channels.get(&kind) else {
            let reason = format!("no {kind} channel is configured; add one to the dispatcher");
            return self.finish(id, attempt, OutboxStatus::Dead, &reason).await;
        };
        // What an SMS costs (a template-less text): written to the ledger, and paced by
        // segment where the provider limits segments.
        let cost = (kind == ChannelKind::Sms && entry.message.template.is_none())
            .then(|| crate::sms::segments(&entry.message.text));
        if let Some(limit) = self.limits.get(&kind) {
            let permits = match cost {
                Some(c) if self.by_segment.contains(&kind) => c.segments,
                _ => 1,
            };
            limit
                .acquire_n(u32::try_from(permits).unwrap_or(u32::MAX))
                .await;
        }
        let result = channel.send(&entry.message, &entry.key).await;
        drop(turn);
        let now = self.clock.now();
        match result {
            Ok(receipt) => {
                let mut reason = if recovered {
                    format!(
                        "sent on {kind} as {} after a restart: the earlier attempt was in flight when the dispatcher stopped, so the customer may get it twice",
                        receipt.provider_message_id
                    )
                } else {
                    format!("sent on {kind} as {}", receipt.provider_message_id)
                };
                if let Some(c) = cost {
                    reason.push_str(&format!(
                        " ({} segment{}, {})",
                        c.segments,
                        if c.segments == 1 { "" } else { "s" },
                        c.encoding.as_str()
                    ));
                }
                let ok = self
                    .sent
                    .record(
                        self.outbox.as_ref(),
                        self.clock.as_ref(),
                        SentRecord::new(id, attempt, receipt, reason),
                    )
                    .await?;
                Ok(if ok { Outcome::Sent } else { Outcome::Lost })
            }
            Err(SendError::Transient {
                retry_after,
                reason,
            }) => {
                if self.retry.may_retry(attempt) {
                    let delay = self.retry.delay(attempt, retry_after);
                    let at =
                        now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                    let why = format!(
                        "attempt {attempt} failed transiently ({reason}); retrying at {}",
                        at.to_rfc3339()
                    );
                    let ok = self
                        .outbox
                        .reschedule(id, attempt, at, Decision::Retrying, &why, now)
                        .await?;
                    Ok(if ok {
                        Outcome::Rescheduled
                    } else {
                        Outcome::Lost
                    })
                } else {
                    let why = format!("gave up after {attempt} attempts: {reason}");
                    self.finish(id, attempt, OutboxStatus::Dead, &why).await
                }
            }
            Err(SendError::Permanent {
                code,
                reason,
                opted_out,
            }) => {
                if opted_out && let Some(store) = &self.consent {
                    let source = format!("provider:{}", code.as_deref().unwrap_or("opt-out"));
                    store
                        .set_consent(ConsentRecord::new(
                            kind,
                            &entry.message.to,
                            None,
                            ConsentState::Denied,
                            source,
                            now,
                        ))
                        .await?;
                }
                let why = format!(
                    "permanent failure{}: {reason}",
                    code.map(|c| format!(" (provider code {c})"))
                        .unwrap_or_default()
                );
                self.finish(id, attempt, OutboxStatus::Dead, &why).await
            }
            Err(SendError::MaybeSent { reason }) => {
                let why = format!(
                    "the request may have been sent ({reason}); not retried automatically to avoid a duplicate"
                );
                self.finish(id, attempt, OutboxStatus::Uncertain, &why)
                    .await
            }
            Err(SendError::TemplateRequired { reason }) => {
                let why = format!("the channel requires an approved template: {reason}");
                self.finish(id, attempt, OutboxStatus::Dead, &why).await
            }
        }
    }

    async fn finish(
        &self,
        id: i64,
        attempt: u32,
        status: OutboxStatus,
        reason: &str,
    ) -> Result<Outcome, Error> {
        let ok = self
            .outbox
            .finish(id, attempt, status, reason, self.clock.now())
            .await?;
        Ok(if !ok {
            Outcome::Lost
        } else {
            match status {
                OutboxStatus::Skipped => Outcome::Skipped,
                OutboxStatus::Uncertain => Outcome::Uncertain,
                _ => Outcome::Dead,
            }
        })
    }
}
