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
//! - finished outbox messages (sent, skipped, dead, uncertain, abandoned) are deleted; their ledger
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
use crate::clock::{Clock, SystemClock};
use crate::inbox::{EventHandler, HandlerError};
use crate::model::PlatformEvent;
use crate::store::{
    CustomerRedaction, Decision, InboxEntry, Ledger, LedgerEntry, RedactionReport, Redactor,
    Snapshot, SnapshotStore,
};

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

/// The snapshot kind under which a shop's uninstallation is recorded (id: the shop).
pub const SHOP_UNINSTALLED: &str = "shop_uninstalled";

/// Handles the privacy events (`CustomerRedactRequested`, `ShopRedactRequested`) by erasing
/// data through a [`Redactor`], and records `AppUninstalled`; other events are ignored.
/// Idempotent: erasing twice erases nothing more. Compose it with other handlers in your
/// own [`EventHandler`].
///
/// # When a shop is erased
///
/// Erasing a shop is the one event that destroys everything, so it is acted on only when
/// it is consistent with what the store knows: the shop must have uninstalled the app
/// first. Shopify sends `shop/redact` 48 hours after a shop uninstalls (its compliance
/// webhooks page), and every platform with a shop-erasure event sends it after the
/// uninstall. The rule:
///
/// - an `AppUninstalled` event records the uninstall (a snapshot of kind
///   [`SHOP_UNINSTALLED`], id the shop);
/// - a `ShopRedactRequested` for a shop with that record erases the shop's data;
/// - one for a shop without it is **held**: a ledger row (decision `skipped`) says why,
///   and the entry is retried with the inbox's backoff (the uninstall may still be on its
///   way), then dead-lettered with the reason; an operator who knows better requeues it
///   once the uninstall is recorded.
///
/// The event itself was decoded from a body that passed the source's checks (its shape and
/// its shop bound to the configured one): an adapter never yields an erasure from a body
/// that does not say so.
///
/// `CustomerDataRequested` is logged for the merchant to answer: Aftercare keeps only what
/// the export of the stores shows (messages, answers, consent), which the shop owner
/// exports themselves.
#[derive(Clone)]
pub struct PrivacyHandler {
    redactor: Arc<dyn Redactor>,
    snapshots: Arc<dyn SnapshotStore>,
    ledger: Arc<dyn Ledger>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PrivacyHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivacyHandler")
    }
}

impl PrivacyHandler {
    /// A handler erasing through `store`, which also keeps the uninstall records and the
    /// ledger of refused erasures. Time comes from the system clock.
    pub fn new<S>(store: Arc<S>) -> Self
    where
        S: Redactor + SnapshotStore + Ledger + 'static,
    {
        Self {
            redactor: store.clone(),
            snapshots: store.clone(),
            ledger: store,
            clock: Arc::new(SystemClock),
        }
    }

    /// Takes the time from `clock` (tests, simulations).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
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
            PlatformEvent::AppUninstalled { shop } => {
                let now = self.clock.now();
                let mark = Snapshot {
                    kind: SHOP_UNINSTALLED.to_owned(),
                    shop: Some(shop.clone()),
                    id: shop.as_str().to_owned(),
                    version: now,
                    data: serde_json::json!({ "uninstalled_at": now }),
                };
                self.snapshots.put_if_newer(&mark).await?;
                tracing::info!(shop = %shop, "app uninstalled; the shop's erasure will be accepted");
                Ok(true)
            }
            PlatformEvent::ShopRedactRequested { shop } => {
                if self
                    .snapshots
                    .snapshot(SHOP_UNINSTALLED, shop.as_str())
                    .await?
                    .is_none()
                {
                    let reason = format!(
                        "shop erasure held: no uninstall of `{shop}` is recorded, and a shop is erased only after it uninstalled the app; it is retried, then dead-lettered (requeue it once the uninstall is recorded)"
                    );
                    let mut row = LedgerEntry::new(self.clock.now(), Decision::Skipped, &reason);
                    row.shop = Some(shop.clone());
                    self.ledger.record(row).await?;
                    tracing::warn!(shop = %shop, "shop erasure held: no uninstall recorded");
                    return Err(HandlerError::Retry(reason));
                }
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

    /// Erases, keeps snapshots and ledger rows in memory.
    #[derive(Default)]
    struct Shops {
        erased: Mutex<Vec<ShopId>>,
        snapshots: Mutex<Vec<Snapshot>>,
        ledger: Mutex<Vec<LedgerEntry>>,
    }

    #[async_trait]
    impl Redactor for Shops {
        async fn redact_customer(&self, _: &CustomerRedaction) -> Result<RedactionReport, Error> {
            Ok(RedactionReport::default())
        }
        async fn redact_shop(&self, shop: &ShopId) -> Result<RedactionReport, Error> {
            self.erased.lock().unwrap().push(shop.clone());
            self.snapshots
                .lock()
                .unwrap()
                .retain(|s| s.shop.as_ref() != Some(shop));
            Ok(RedactionReport::default())
        }
        async fn expire(&self, _: DateTime<Utc>) -> Result<RedactionReport, Error> {
            Ok(RedactionReport::default())
        }
    }

    #[async_trait]
    impl SnapshotStore for Shops {
        async fn put_if_newer(&self, snapshot: &Snapshot) -> Result<bool, Error> {
            let mut all = self.snapshots.lock().unwrap();
            all.retain(|s| !(s.kind == snapshot.kind && s.id == snapshot.id));
            all.push(snapshot.clone());
            Ok(true)
        }
        async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
            Ok(self
                .snapshots
                .lock()
                .unwrap()
                .iter()
                .find(|s| s.kind == kind && s.id == id)
                .cloned())
        }
    }

    #[async_trait]
    impl Ledger for Shops {
        async fn record(&self, entry: LedgerEntry) -> Result<(), Error> {
            self.ledger.lock().unwrap().push(entry);
            Ok(())
        }
        async fn ledger_for_order(
            &self,
            _: &crate::model::OrderId,
        ) -> Result<Vec<LedgerEntry>, Error> {
            Ok(Vec::new())
        }
        async fn ledger_for_key(&self, _: &str) -> Result<Vec<LedgerEntry>, Error> {
            Ok(Vec::new())
        }
    }

    #[tokio::test]
    async fn a_shop_is_erased_only_after_its_uninstall_is_recorded() {
        let store = Arc::new(Shops::default());
        let h = PrivacyHandler::new(store.clone()).clock(Arc::new(ManualClock::new(now())));
        let shop: ShopId = "demo.myshopify.com".into();
        let redact = PlatformEvent::ShopRedactRequested { shop: shop.clone() };

        // No uninstall recorded: held, retried, ledgered; nothing erased.
        let held = h.apply(&redact).await.unwrap_err();
        assert!(
            matches!(&held, HandlerError::Retry(why) if why.contains("no uninstall")),
            "{held}"
        );
        assert!(store.erased.lock().unwrap().is_empty());
        let rows = store.ledger.lock().unwrap().clone();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].decision, Decision::Skipped);
        assert_eq!(rows[0].shop.as_ref(), Some(&shop));
        assert!(rows[0].reason.starts_with("shop erasure held"));

        // Another shop's uninstall does not open this one.
        h.apply(&PlatformEvent::AppUninstalled {
            shop: "other.myshopify.com".into(),
        })
        .await
        .unwrap();
        assert!(h.apply(&redact).await.is_err());
        assert!(store.erased.lock().unwrap().is_empty());

        // Once it uninstalled, the erasure goes through.
        assert!(
            h.apply(&PlatformEvent::AppUninstalled { shop: shop.clone() })
                .await
                .unwrap()
        );
        assert!(h.apply(&redact).await.unwrap());
        assert_eq!(*store.erased.lock().unwrap(), vec![shop]);
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
