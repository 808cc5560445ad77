//! Privacy: erase a customer's or a shop's data when the platform asks
//! ([`PrivacyHandler`]), and keep personal data no longer than a retention period
//! ([`RetentionSweeper`]).
//!
//! # Retention
//!
//! By default data is kept for [`DEFAULT_RETENTION_DAYS`] (365) days
//! (`[retention] days` in [`crate::config::Config`]). A [`RetentionSweeper`] calls
//! [`Redactor::expire`] with the cutoff `now - days` from its [`Clock`], once when it starts
//! and then every interval. What is older than the cutoff:
//! - survey answers keep kind and score (for statistics) but lose customer id and comment;
//!   invitations lose the customer id; comments kept from late replies are deleted;
//! - processed (done or dead) webhooks are deleted with their bodies;
//! - finished outbox messages (sent, skipped, dead, uncertain) are deleted; their ledger
//!   rows, like every ledger row older than the cutoff, stay without the customer id;
//! - consent records stay: opt-outs are hashed and must stay honoured.
//!
//! Keep the period longer than the survey cool-down (the cool-down reads the customer id of
//! past invitations) and than any survey window.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Error;
use crate::clock::Clock;
use crate::inbox::{EventHandler, HandlerError};
use crate::model::PlatformEvent;
use crate::store::{CustomerRedaction, InboxEntry, RedactionReport, Redactor};

/// The retention period used when none is configured, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// How long personal data is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            days: DEFAULT_RETENTION_DAYS,
        }
    }
}

impl RetentionPolicy {
    /// Keep data for `days` days (at least one: a day of 0 is taken as 1, so work in
    /// flight is never expired).
    pub fn days(days: u32) -> Self {
        Self { days: days.max(1) }
    }

    /// The period in days.
    pub fn retention_days(&self) -> u32 {
        self.days
    }

    /// Data older than this instant is expired, seen at `now`.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::days(i64::from(self.days))
    }
}

/// Applies a [`RetentionPolicy`] periodically through [`Redactor::expire`].
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<dyn aftercare::store::Redactor>) {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use aftercare::clock::SystemClock;
/// use aftercare::flows::privacy::{RetentionPolicy, RetentionSweeper};
///
/// let sweeper = RetentionSweeper::new(store, Arc::new(SystemClock), RetentionPolicy::default());
/// sweeper
///     .run(Duration::from_secs(3600), async { let _ = tokio::signal::ctrl_c().await; })
///     .await;
/// # }
/// ```
#[derive(Clone)]
pub struct RetentionSweeper {
    redactor: Arc<dyn Redactor>,
    clock: Arc<dyn Clock>,
    policy: RetentionPolicy,
}

impl std::fmt::Debug for RetentionSweeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetentionSweeper")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl RetentionSweeper {
    /// A sweeper expiring through `redactor`, with the time from `clock`.
    pub fn new(
        redactor: Arc<dyn Redactor>,
        clock: Arc<dyn Clock>,
        policy: RetentionPolicy,
    ) -> Self {
        Self {
            redactor,
            clock,
            policy,
        }
    }

    /// Expires once, now: everything older than the policy's cutoff.
    pub async fn sweep(&self) -> Result<RedactionReport, Error> {
        let before = self.policy.cutoff(self.clock.now());
        let report = self.redactor.expire(before).await?;
        tracing::info!(%before, ?report, "retention period applied");
        Ok(report)
    }

    /// Sweeps at once, then every `interval`, until `shutdown` resolves. A failed sweep is
    /// logged and tried again at the next interval.
    pub async fn run(&self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.sweep().await {
                tracing::error!(error = %e, "retention sweep failed; trying again later");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }
}

/// Handles the privacy events (`CustomerRedactRequested`, `ShopRedactRequested`) by erasing
/// data through a [`Redactor`]; other events are ignored. Idempotent: erasing twice erases
/// nothing more. Compose it with other handlers in your own [`EventHandler`].
///
/// `CustomerDataRequested` is logged for the merchant to answer: Aftercare keeps only what
/// the export of the stores shows (messages, answers, consent), which the shop owner
/// exports themselves.
#[derive(Clone)]
pub struct PrivacyHandler {
    redactor: Arc<dyn Redactor>,
}

impl std::fmt::Debug for PrivacyHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivacyHandler")
    }
}

impl PrivacyHandler {
    /// A handler erasing through `redactor`.
    pub fn new(redactor: Arc<dyn Redactor>) -> Self {
        Self { redactor }
    }

    /// Acts on one event; returns whether it was a privacy event.
    pub async fn apply(&self, event: &PlatformEvent) -> Result<bool, HandlerError> {
        match event {
            PlatformEvent::CustomerRedactRequested {
                shop,
                customer_id,
                email,
                phone,
                orders,
            } => {
                let req = CustomerRedaction::new(
                    Some(shop.clone()),
                    Some(customer_id.clone()),
                    email.iter().chain(phone.iter()).cloned().collect(),
                    orders.clone(),
                );
                let report = self.redactor.redact_customer(&req).await?;
                tracing::info!(shop = %shop, ?report, "customer data redacted");
                Ok(true)
            }
            PlatformEvent::ShopRedactRequested { shop } => {
                let report = self.redactor.redact_shop(shop).await?;
                tracing::info!(shop = %shop, ?report, "shop data redacted");
                Ok(true)
            }
            PlatformEvent::CustomerDataRequested { shop, orders, .. } => {
                tracing::info!(shop = %shop, orders = orders.len(), "customer data request received; the merchant answers it from their exports");
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl EventHandler for PrivacyHandler {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        for e in &events {
            self.apply(e).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::clock::ManualClock;
    use crate::model::ShopId;

    /// Records the cutoffs it is asked to expire, and tells the test on each call.
    #[derive(Default)]
    struct Recorder {
        cutoffs: Mutex<Vec<DateTime<Utc>>>,
        calls: Option<tokio::sync::mpsc::UnboundedSender<()>>,
    }

    #[async_trait]
    impl Redactor for Recorder {
        async fn redact_customer(&self, _: &CustomerRedaction) -> Result<RedactionReport, Error> {
            Ok(RedactionReport::default())
        }
        async fn redact_shop(&self, _: &ShopId) -> Result<RedactionReport, Error> {
            Ok(RedactionReport::default())
        }
        async fn expire(&self, before: DateTime<Utc>) -> Result<RedactionReport, Error> {
            self.cutoffs.lock().unwrap().push(before);
            if let Some(tx) = &self.calls {
                let _ = tx.send(());
            }
            Ok(RedactionReport::default())
        }
    }

    fn now() -> DateTime<Utc> {
        "2027-06-15T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_default_is_a_year_and_zero_means_one_day() {
        assert_eq!(RetentionPolicy::default().retention_days(), 365);
        assert_eq!(
            RetentionPolicy::default().cutoff(now()),
            "2026-06-15T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(RetentionPolicy::days(0).retention_days(), 1);
        assert_eq!(
            RetentionPolicy::days(30).cutoff(now()),
            "2027-05-16T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[tokio::test]
    async fn sweep_expires_before_the_cutoff_of_the_clock() {
        let r = Arc::new(Recorder::default());
        let clock = Arc::new(ManualClock::new(now()));
        let s = RetentionSweeper::new(r.clone(), clock.clone(), RetentionPolicy::days(10));
        s.sweep().await.unwrap();
        clock.advance(chrono::Duration::days(1));
        s.sweep().await.unwrap();
        assert_eq!(
            *r.cutoffs.lock().unwrap(),
            vec![
                now() - chrono::Duration::days(10),
                now() - chrono::Duration::days(9)
            ]
        );
    }

    #[tokio::test]
    async fn run_sweeps_at_once_and_stops_on_shutdown() {
        let (calls, mut called) = tokio::sync::mpsc::unbounded_channel();
        let r = Arc::new(Recorder {
            calls: Some(calls),
            ..Recorder::default()
        });
        let s = RetentionSweeper::new(
            r.clone(),
            Arc::new(ManualClock::new(now())),
            RetentionPolicy::default(),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            s.run(Duration::from_secs(24 * 3600), async {
                let _ = stopped.await;
            })
            .await;
        });
        called.recv().await.unwrap();
        stop.send(()).unwrap();
        task.await.unwrap();
        assert_eq!(
            *r.cutoffs.lock().unwrap(),
            vec![now() - chrono::Duration::days(365)]
        );
    }
}
