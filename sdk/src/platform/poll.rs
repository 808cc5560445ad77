//! Catch-up polling: turns [`OrderSource::updated_since`] into the same events webhooks
//! bring, on a schedule, so a webhook that never arrived (WooCommerce never retries a
//! failed delivery and disables a hook after 5 failures; Magento's core sends none) is
//! caught within one poll interval.
//!
//! How it stays exact:
//! - **A durable cursor.** The newest modification time seen is kept as a snapshot (kind
//!   [`CURSOR_KIND`], id the poller's name), written only after a pass went through every
//!   page, so a pass cut short by an API error is read again from the same point (a
//!   first pass, which starts from the clock, keeps its start as the cursor when it
//!   fails). Each pass re-reads an overlap (default 5 minutes) before the cursor, for
//!   orders whose modification time was written late.
//! - **Through the inbox.** Each order version found becomes an inbox entry under the
//!   poller's name with the key `order:{id}@{updated_at}`: stored once, acknowledged by the
//!   store, processed with the inbox's retries by the same handlers as webhooks
//!   (register [`PolledSource`] under the poller's name with the processor).
//! - **De-duplicated against webhooks** by resource id and modification time: a shipment
//!   whose stored snapshot (kind `shipment`, written by the tracking and feedback flows when
//!   a webhook brought it) is at least as new is left out, and an order with nothing new
//!   whose version a webhook already brought (snapshot kind [`ORDER_VERSION_KIND`], written by
//!   [`OrderVersions`] in the handler chain) or an earlier pass stored (kind [`SEEN_KIND`]) is
//!   skipped.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;

use crate::Error;
use crate::clock::Clock;
use crate::model::{Order, PlatformEvent};
use crate::platform::OrderSource;
use crate::store::{Inbox, InboxEntry, InboxInsert, NewInboxEntry, Snapshot, SnapshotStore};
use crate::webhook::{Rejection, VerifiedWebhook, WebhookRequest, WebhookSource};

/// The snapshot kind of a poller's cursor (id: the poller's name).
pub const CURSOR_KIND: &str = "poll_cursor";
/// The snapshot kind of an order version the poller stored (id: `{poller}:{order id}`).
pub const SEEN_KIND: &str = "poll_seen";
/// The snapshot kind of an order version that events (webhooks, or a poll) brought and
/// [`OrderVersions`] recorded (id: the order id).
pub const ORDER_VERSION_KIND: &str = "order_version";
/// The topic of the entries a poller stores.
pub const POLL_TOPIC: &str = "poll/order";

/// Settings of a [`CatchUpPoller`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollSettings {
    /// How often to poll (default 5 minutes).
    pub interval: Duration,
    /// How far before the cursor each pass reads again (default 5 minutes).
    pub overlap: Duration,
    /// Where the first pass starts, before now, when no cursor is stored (default 1 day).
    pub first_lookback: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5 * 60),
            overlap: Duration::from_secs(5 * 60),
            first_lookback: Duration::from_secs(24 * 3600),
        }
    }
}

impl PollSettings {
    /// Sets the interval.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the overlap.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// Sets the first pass's look-back.
    pub fn first_lookback(mut self, lookback: Duration) -> Self {
        self.first_lookback = lookback;
        self
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollReport {
    /// Orders the platform listed.
    pub seen: u32,
    /// Order versions stored in the inbox.
    pub stored: u32,
    /// Orders left out: nothing newer than what webhooks (or an earlier pass) brought.
    pub skipped: u32,
}

/// Polls a platform for orders changed since its cursor and stores what webhooks missed.
#[derive(Clone)]
pub struct CatchUpPoller {
    name: String,
    orders: Arc<dyn OrderSource>,
    inbox: Arc<dyn Inbox>,
    snapshots: Arc<dyn SnapshotStore>,
    clock: Arc<dyn Clock>,
    settings: PollSettings,
}

impl std::fmt::Debug for CatchUpPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatchUpPoller")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn version_key(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl CatchUpPoller {
    /// A poller named `name` (its inbox source name and cursor id, e.g.
    /// `woocommerce-poll`) reading `orders`, storing into `store`.
    pub fn new<S>(
        name: impl Into<String>,
        orders: Arc<dyn OrderSource>,
        store: Arc<S>,
        clock: Arc<dyn Clock>,
    ) -> Self
    where
        S: Inbox + SnapshotStore + 'static,
    {
        Self {
            name: name.into(),
            orders,
            inbox: store.clone(),
            snapshots: store,
            clock,
            settings: PollSettings::default(),
        }
    }

    /// Sets the settings.
    pub fn settings(mut self, settings: PollSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The poller's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stored cursor, if any.
    pub async fn cursor(&self) -> Result<Option<DateTime<Utc>>, Error> {
        Ok(self
            .snapshots
            .snapshot(CURSOR_KIND, &self.name)
            .await?
            .map(|s| s.version))
    }

    /// One pass: every order changed since the cursor (less the overlap), stored in the
    /// inbox unless webhooks already brought it; the cursor moves only when every page was
    /// read.
    pub async fn poll_once(&self) -> Result<PollReport, Error> {
        let now = self.clock.now();
        let overlap = chrono::Duration::from_std(self.settings.overlap).unwrap_or_default();
        let cursor = self.cursor().await?;
        let first_pass = cursor.is_none();
        let since = match cursor {
            Some(c) => c - overlap,
            None => {
                now - chrono::Duration::from_std(self.settings.first_lookback).unwrap_or_default()
            }
        };
        let mut report = PollReport::default();
        let mut newest: Option<DateTime<Utc>> = None;
        let read = async {
            let mut stream = self.orders.updated_since(since);
            while let Some(order) = stream.next().await {
                let order = order?;
                report.seen += 1;
                let version = order.updated_at.unwrap_or(now);
                newest = Some(newest.map_or(version, |n| n.max(version)));
                if self.store_order(order, version).await? {
                    report.stored += 1;
                } else {
                    report.skipped += 1;
                }
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = read {
            // A first pass starts from the clock: the next one, later, would start later
            // and the orders this one did not reach could slip out of the look-back. Keep
            // this pass's start as the cursor (less the overlap the next pass subtracts).
            if first_pass {
                self.put_cursor(since + overlap, now).await?;
            }
            return Err(e);
        }
        if let Some(newest) = newest {
            self.put_cursor(newest, now).await?;
        }
        tracing::info!(poller = %self.name, %since, ?report, "catch-up poll done");
        Ok(report)
    }

    async fn put_cursor(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Error> {
        self.snapshots
            .put_if_newer(&Snapshot {
                kind: CURSOR_KIND.into(),
                shop: None,
                id: self.name.clone(),
                version: at,
                data: serde_json::json!({ "polled_at": now }),
            })
            .await?;
        Ok(())
    }

    /// Stores one order version unless nothing in it is new; returns whether it stored.
    async fn store_order(&self, order: Order, version: DateTime<Utc>) -> Result<bool, Error> {
        let seen_id = format!("{}:{}", self.name, order.id.as_str());
        if let Some(seen) = self.snapshots.snapshot(SEEN_KIND, &seen_id).await?
            && seen.version >= version
        {
            return Ok(false);
        }
        let mut events = Vec::new();
        let mut new_shipments = 0;
        for shipment in self.orders.shipments(&order.id).await? {
            let known = self
                .snapshots
                .snapshot("shipment", shipment.id.as_str())
                .await?
                .map(|s| s.version);
            let at = shipment.updated_at.or(shipment.created_at);
            if matches!((known, at), (Some(k), Some(a)) if k >= a) {
                continue;
            }
            new_shipments += 1;
            events.push(PlatformEvent::ShipmentUpdated { shipment });
        }
        // Nothing new in its shipments, and the order at this version (or newer) was already
        // handled from a webhook: nothing to store.
        if new_shipments == 0
            && self
                .snapshots
                .snapshot(ORDER_VERSION_KIND, order.id.as_str())
                .await?
                .is_some_and(|s| s.version >= version)
        {
            self.mark_seen(order.shop.clone(), seen_id, version).await?;
            return Ok(false);
        }
        let shop = order.shop.clone();
        let order_id = order.id.clone();
        events.insert(0, PlatformEvent::OrderUpdated { order });
        let body = serde_json::to_vec(&events).map_err(|e| Error::decode("polled order", e))?;
        let mut v = VerifiedWebhook::new(format!(
            "order:{}@{}",
            order_id.as_str(),
            version_key(version)
        ));
        v.topic = Some(POLL_TOPIC.into());
        v.shop = shop.as_ref().map(|s| s.as_str().to_owned());
        v.occurred_at = Some(version);
        v.meta.insert("shipments".into(), new_shipments.to_string());
        let inserted = self
            .inbox
            .insert(NewInboxEntry::new(
                self.name.clone(),
                v,
                body,
                self.clock.now(),
            ))
            .await?;
        self.mark_seen(shop, seen_id, version).await?;
        Ok(matches!(inserted, InboxInsert::Inserted(_)))
    }

    /// Records that this poller handled the order at `version`.
    async fn mark_seen(
        &self,
        shop: Option<crate::model::ShopId>,
        seen_id: String,
        version: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.snapshots
            .put_if_newer(&Snapshot {
                kind: SEEN_KIND.into(),
                shop,
                id: seen_id,
                version,
                data: serde_json::json!({}),
            })
            .await?;
        Ok(())
    }

    /// Polls at once, then every interval, until `shutdown` resolves. A failed pass is
    /// logged and tried again at the next interval, from the same cursor.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.poll_once().await {
                tracing::warn!(poller = %self.name, error = %e, "catch-up poll failed; trying again at the next interval");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(self.settings.interval) => {}
            }
        }
    }
}

/// Records the version of every order event it handles (snapshot kind
/// [`ORDER_VERSION_KIND`], the order's `updated_at`), so a [`CatchUpPoller`] skips an order a
/// webhook already brought at that version. Put it in the handler chain beside the flows;
/// an order event without `updated_at` is not recorded (the poller then stores it, and the
/// handlers, which are idempotent, see it again).
#[derive(Clone)]
pub struct OrderVersions {
    snapshots: Arc<dyn SnapshotStore>,
}

impl std::fmt::Debug for OrderVersions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrderVersions")
    }
}

impl OrderVersions {
    /// Records into `snapshots`.
    pub fn new(snapshots: Arc<dyn SnapshotStore>) -> Self {
        Self { snapshots }
    }
}

#[async_trait::async_trait]
impl crate::inbox::EventHandler for OrderVersions {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), crate::inbox::HandlerError> {
        for e in &events {
            let order = match e {
                PlatformEvent::OrderCreated { order }
                | PlatformEvent::OrderPaid { order }
                | PlatformEvent::OrderUpdated { order }
                | PlatformEvent::OrderCancelled { order } => order,
                _ => continue,
            };
            let Some(version) = order.updated_at else {
                continue;
            };
            self.snapshots
                .put_if_newer(&Snapshot {
                    kind: ORDER_VERSION_KIND.into(),
                    shop: order.shop.clone(),
                    id: order.id.as_str().to_owned(),
                    version,
                    data: serde_json::json!({}),
                })
                .await?;
        }
        Ok(())
    }
}

/// Decodes what a [`CatchUpPoller`] stored (register it with the processor under the
/// poller's name). It never accepts a request from outside: `verify` refuses everything,
/// so do not mount it on the webhook router.
#[derive(Clone, Copy, Debug, Default)]
pub struct PolledSource;

impl WebhookSource for PolledSource {
    fn verify(&self, _request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        Err(Rejection::Mismatch)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        serde_json::from_slice(&entry.body).map_err(|e| Error::decode("polled order", e))
    }
}
