//! Processing stored webhooks: claim from the inbox, decode, hand to a handler, retry with
//! backoff, dead-letter what keeps failing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::Error;
use crate::backoff::RetryPolicy;
use crate::clock::Clock;
use crate::model::PlatformEvent;
use crate::platform::thin::Hydrator;
use crate::store::{Inbox, InboxEntry};
use crate::webhook::WebhookSource;

/// What a handler says when it cannot finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// Try again later (a platform API was down, the database was busy).
    #[error("will retry: {0}")]
    Retry(String),
    /// Never going to work (the data is inconsistent): dead-letter now.
    #[error("poisoned: {0}")]
    Poison(String),
}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        if e.is_retryable() {
            HandlerError::Retry(e.to_string())
        } else {
            HandlerError::Poison(e.to_string())
        }
    }
}

/// Acts on the events decoded from one stored webhook. Must be idempotent: an entry is
/// processed at least once, and again after a crash mid-way.
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Handles the events of one inbox entry.
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError>;
}

/// What one pass of the processor did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessReport {
    /// Entries handled successfully.
    pub done: u32,
    /// Entries left for a later retry.
    pub retried: u32,
    /// Entries dead-lettered.
    pub dead: u32,
}

/// Takes work from the inbox and runs it through the sources' decoders and a handler.
pub struct InboxProcessor {
    inbox: Arc<dyn Inbox>,
    sources: HashMap<String, Arc<dyn WebhookSource>>,
    hydrators: HashMap<String, Arc<dyn Hydrator>>,
    handler: Arc<dyn EventHandler>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    batch: u32,
    lease: Duration,
}

impl std::fmt::Debug for InboxProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxProcessor")
            .field("sources", &self.sources.keys().collect::<Vec<_>>())
            .field("hydrators", &self.hydrators.keys().collect::<Vec<_>>())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl InboxProcessor {
    /// A processor over an inbox, with a handler.
    pub fn new(
        inbox: Arc<dyn Inbox>,
        handler: Arc<dyn EventHandler>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inbox,
            sources: HashMap::new(),
            hydrators: HashMap::new(),
            handler,
            clock,
            policy: RetryPolicy::default(),
            batch: 32,
            lease: Duration::from_secs(5 * 60),
        }
    }

    /// Registers the source that decodes entries stored under `name`.
    pub fn source(mut self, name: impl Into<String>, source: Arc<dyn WebhookSource>) -> Self {
        self.sources.insert(name.into(), source);
        self
    }

    /// Registers the [`Hydrator`] that builds the events of entries stored under `name`
    /// (a platform whose webhooks carry only ids). It takes the place of the source's
    /// `decode`; a retryable error from it retries the entry with the inbox's backoff.
    pub fn hydrator(mut self, name: impl Into<String>, hydrator: Arc<dyn Hydrator>) -> Self {
        self.hydrators.insert(name.into(), hydrator);
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the claim lease: how long an entry stays hidden while being processed.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Claims and processes one batch of due entries.
    pub async fn run_once(&self) -> Result<ProcessReport, Error> {
        let now = self.clock.now();
        let entries = self.inbox.claim(now, self.batch, self.lease).await?;
        let mut report = ProcessReport::default();
        for entry in entries {
            match self.process(&entry).await {
                Ok(()) => {
                    self.inbox.complete(entry.id, self.clock.now()).await?;
                    report.done += 1;
                }
                Err(HandlerError::Retry(why)) if self.policy.may_retry(entry.attempts) => {
                    let delay = self.policy.delay(entry.attempts, None);
                    let at = self.clock.now()
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                    tracing::warn!(id = entry.id, attempts = entry.attempts, %why, "inbox entry failed; will retry");
                    self.inbox.retry_at(entry.id, at, &why).await?;
                    report.retried += 1;
                }
                Err(e) => {
                    let reason = match e {
                        HandlerError::Retry(why) => {
                            format!("gave up after {} attempts: {why}", entry.attempts)
                        }
                        HandlerError::Poison(why) => why,
                    };
                    tracing::error!(id = entry.id, %reason, "inbox entry dead-lettered");
                    self.inbox.dead_letter(entry.id, &reason).await?;
                    report.dead += 1;
                }
            }
        }
        Ok(report)
    }

    async fn process(&self, entry: &InboxEntry) -> Result<(), HandlerError> {
        let events = if let Some(h) = self.hydrators.get(&entry.source) {
            h.hydrate(entry).await.map_err(HandlerError::from)?
        } else {
            let source = self.sources.get(&entry.source).ok_or_else(|| {
                HandlerError::Poison(format!("no source named `{}` is registered", entry.source))
            })?;
            source
                .decode(entry)
                .map_err(|e| HandlerError::Poison(e.to_string()))?
        };
        self.handler.handle(entry, events).await
    }

    /// Processes batches until the inbox has nothing due; returns the totals.
    pub async fn drain(&self) -> Result<ProcessReport, Error> {
        let mut total = ProcessReport::default();
        loop {
            let r = self.run_once().await?;
            total.done += r.done;
            total.retried += r.retried;
            total.dead += r.dead;
            if r.done + r.retried + r.dead == 0 {
                return Ok(total);
            }
        }
    }

    /// Runs forever, polling every `interval` when idle; stops when `shutdown` resolves.
    pub async fn run(&self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let idle = match self.run_once().await {
                Ok(r) => r.done + r.retried + r.dead == 0,
                Err(e) => {
                    tracing::error!(error = %e, "inbox processing failed; backing off");
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
}
