//! Tracking-link sharing: when a shipment is created or moves, tell the customer — once per
//! milestone, on the channel they can and may be reached on, in their language, with the
//! tracking link, the bought products' tutorials and a support link.
//!
//! The flow only enqueues. Two [`SendPolicy`]s belong with it on the dispatcher:
//! [`QuietHoursPolicy`] (defer, never drop, until morning in the customer's time zone) and
//! [`SupersededPolicy`] (a milestone message still waiting when a later milestone is known —
//! delivered before out-for-delivery went out — is skipped with the reason).
//!
//! One file past 800 lines: the flow, its settings and the two dispatch policies it needs
//! (quiet hours, superseded milestones) change together; rendering is in `l10n`, channel
//! choice in `reach`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::clock::Clock;
use crate::content::ContentMap;
use crate::dispatch::{SendPolicy, Verdict};
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{
    ChannelKind, Customer, Order, OrderId, OutboundMessage, PlatformEvent, Purpose, Shipment,
    ShipmentId, ShipmentStatus, TemplateRef,
};
use crate::platform::known::{self, KnownCustomers, KnownOrders};
use crate::platform::{CustomerDirectory, OrderSource};
use crate::store::{
    ConsentStore, Decision, InboxEntry, Ledger, LedgerEntry, NewOutboxMessage, Outbox, OutboxEntry,
    Snapshot, SnapshotStore,
};
use crate::token::TokenSigner;
use crate::work::{ReadKeys, Stage};

/// The moments worth a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Milestone {
    /// It shipped: the first message, with the tracking link.
    Shipped,
    /// Late against the estimate.
    Delayed,
    /// A problem with the parcel.
    Exception,
    /// Out for delivery today.
    OutForDelivery,
    /// A delivery attempt failed.
    AttemptedDelivery,
    /// Waiting at a pickup point.
    ReadyForPickup,
    /// Delivered.
    Delivered,
}

impl Milestone {
    /// Every milestone.
    pub const ALL: [Milestone; 7] = [
        Milestone::Shipped,
        Milestone::Delayed,
        Milestone::Exception,
        Milestone::OutForDelivery,
        Milestone::AttemptedDelivery,
        Milestone::ReadyForPickup,
        Milestone::Delivered,
    ];

    /// The milestone a status reaches, if any.
    pub fn from_status(status: &ShipmentStatus) -> Option<Self> {
        Some(match status {
            ShipmentStatus::LabelCreated | ShipmentStatus::PickedUp | ShipmentStatus::InTransit => {
                Milestone::Shipped
            }
            ShipmentStatus::Delayed => Milestone::Delayed,
            ShipmentStatus::Exception => Milestone::Exception,
            ShipmentStatus::OutForDelivery => Milestone::OutForDelivery,
            ShipmentStatus::AttemptedDelivery => Milestone::AttemptedDelivery,
            ShipmentStatus::ReadyForPickup => Milestone::ReadyForPickup,
            ShipmentStatus::Delivered => Milestone::Delivered,
            _ => return None,
        })
    }

    /// The milestone a shipment's state reaches. A shipment with a tracking number whose
    /// carrier has not reported yet (no status, or only "confirmed") has shipped: that is
    /// when platforms create the fulfillment and when the tracking link is worth sending.
    pub fn for_shipment(shipment: &Shipment) -> Option<Self> {
        Self::from_status(&shipment.status).or_else(|| {
            (matches!(
                shipment.status,
                ShipmentStatus::Confirmed | ShipmentStatus::Unknown(_)
            ) && shipment
                .tracking_numbers
                .iter()
                .any(|n| !n.trim().is_empty()))
            .then_some(Milestone::Shipped)
        })
    }

    /// How far along it is; a message for a lower rank than the shipment's current state is
    /// superseded.
    pub fn rank(self) -> u8 {
        match self {
            Milestone::Shipped => 1,
            Milestone::Delayed | Milestone::Exception => 2,
            Milestone::OutForDelivery => 3,
            Milestone::AttemptedDelivery | Milestone::ReadyForPickup => 4,
            Milestone::Delivered => 5,
        }
    }

    /// Stable name (`out_for_delivery`).
    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::Shipped => "shipped",
            Milestone::Delayed => "delayed",
            Milestone::Exception => "exception",
            Milestone::OutForDelivery => "out_for_delivery",
            Milestone::AttemptedDelivery => "attempted_delivery",
            Milestone::ReadyForPickup => "ready_for_pickup",
            Milestone::Delivered => "delivered",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Milestone::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The message id in the catalogs (`tracking-out-for-delivery`).
    pub fn message_id(self) -> &'static str {
        match self {
            Milestone::Shipped => "tracking-shipped",
            Milestone::Delayed => "tracking-delayed",
            Milestone::Exception => "tracking-exception",
            Milestone::OutForDelivery => "tracking-out-for-delivery",
            Milestone::AttemptedDelivery => "tracking-attempted",
            Milestone::ReadyForPickup => "tracking-ready-for-pickup",
            Milestone::Delivered => "tracking-delivered",
        }
    }
}

/// What a [`Renderer`] is asked to write.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderRequest {
    /// The customer's locale (BCP 47).
    pub locale: String,
    /// The channel: plain text for SMS and WhatsApp, text + HTML for email.
    pub channel: ChannelKind,
    /// Catalog message id.
    pub message_id: String,
    /// Named arguments (`first_name`, `order_number`, `carrier`, `tracking_number`,
    /// `tracking_url`, `support_url`, `tutorials` as (title, url) pairs joined by newlines).
    pub args: BTreeMap<String, String>,
    /// Tutorials: (link text, url).
    pub tutorials: Vec<(String, String)>,
    /// The lines the message is about (a shipment's), listed with their pictures in emails.
    pub items: Vec<crate::model::LineItem>,
}

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rendered {
    /// The locale actually used (after fallback).
    pub locale: String,
    /// Email subject.
    pub subject: Option<String>,
    /// Plain text.
    pub text: String,
    /// HTML (email).
    pub html: Option<String>,
}

impl RenderRequest {
    /// A request without tutorials.
    pub fn new(
        locale: impl Into<String>,
        channel: ChannelKind,
        message_id: impl Into<String>,
        args: BTreeMap<String, String>,
    ) -> Self {
        Self {
            locale: locale.into(),
            channel,
            message_id: message_id.into(),
            args,
            tutorials: Vec::new(),
            items: Vec::new(),
        }
    }
}

impl Rendered {
    /// A rendered text.
    pub fn new(locale: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            locale: locale.into(),
            subject: None,
            text: text.into(),
            html: None,
        }
    }
}

/// Writes messages in a language. The sdk's catalogs implement it; so can an integrator's
/// own templates.
pub trait Renderer: Send + Sync {
    /// Renders one message.
    fn render(&self, request: &RenderRequest) -> Result<Rendered, Error>;
}

/// Settings of the tracking flow.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TrackingSettings {
    /// Milestones that produce a message.
    pub milestones: Vec<Milestone>,
    /// Channel preference, first reachable wins. What each needs: email an address; SMS a
    /// phone number; WhatsApp a phone number **and a recorded opt-in** (consent granted for
    /// the purpose, from the platform or a reply), as WhatsApp's business policy requires. A
    /// refusal (STOP, an unsubscribe) rules a channel out. The ledger row of each message
    /// says why the channels before the one used were passed over.
    pub channels: Vec<ChannelKind>,
    /// Locale when the customer's is unknown.
    pub default_locale: String,
    /// Aftercare's public base URL (`https://shop.example/aftercare`), for the tracking page.
    pub public_url: String,
    /// The shop's support link.
    pub support_url: Option<String>,
    /// How long tracking-page links stay valid.
    pub link_ttl: chrono::Duration,
    /// WhatsApp messages go as approved templates named `{prefix}{milestone}`.
    pub whatsapp_template_prefix: String,
    /// Which link messages carry: the shop's tracking page (the default; it shows the
    /// carrier's link too) or the carrier's own page when one is known.
    pub message_link: MessageLink,
    /// SMS and WhatsApp texts carry a 16-character short link id instead of the signed
    /// token ([`crate::links`]); the tracking page must then be given the same store
    /// ([`TrackingPage::short_links`](crate::http::tracking::TrackingPage::short_links)).
    /// Off by default; the reference binaries turn it on.
    pub short_links: bool,
}

/// Which link tracking messages carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageLink {
    /// The shop's tracking page, on every channel.
    #[default]
    TrackingPage,
    /// The carrier's page when one is known (platform URL, named or detected carrier),
    /// else the shop's tracking page. The tracking page shows the same link.
    Carrier,
}

impl Default for TrackingSettings {
    fn default() -> Self {
        Self {
            milestones: Milestone::ALL.to_vec(),
            channels: ChannelKind::ALL.to_vec(),
            default_locale: "en".into(),
            public_url: "http://127.0.0.1:8080".into(),
            support_url: None,
            link_ttl: chrono::Duration::days(60),
            whatsapp_template_prefix: "aftercare_".into(),
            message_link: MessageLink::default(),
            short_links: false,
        }
    }
}

/// The claims of a tracking-page token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingClaims {
    /// Order id.
    pub o: String,
    /// Shipment id.
    pub s: String,
}

/// The outbox key of a milestone message: one per order, shipment, milestone and channel.
pub fn milestone_key(
    order: &OrderId,
    shipment: &ShipmentId,
    milestone: Milestone,
    channel: ChannelKind,
) -> String {
    format!(
        "tracking:{order}:{shipment}:{}:{channel}",
        milestone.as_str()
    )
}

/// Message meta keys the flow sets and its policies read.
pub mod meta {
    /// The shipment a milestone message is about.
    pub const SHIPMENT: &str = "shipment_id";
    /// The milestone (`Milestone::as_str`).
    pub const MILESTONE: &str = "milestone";
    /// The customer's IANA time zone, for quiet hours.
    pub const TIME_ZONE: &str = "time_zone";
    /// The time of the shipment state the message was written for (RFC 3339).
    pub const STATE_AT: &str = "state_at";
    /// The key of the message this one replaces after the provider could not deliver it.
    pub const FALLBACK_OF: &str = "fallback_of";
    /// Who reported the milestone: a tracking source's name, or `platform`.
    pub const REPORTED_BY: &str = "reported_by";
}

/// The tracking flow: an [`EventHandler`] for shipment events.
pub struct TrackingFlow {
    orders: Arc<dyn OrderSource>,
    customers: Arc<KnownCustomers>,
    outbox: Arc<dyn Outbox>,
    ledger: Arc<dyn Ledger>,
    consent: Arc<dyn ConsentStore>,
    snapshots: Arc<dyn SnapshotStore>,
    renderer: Arc<dyn Renderer>,
    content: ContentMap,
    tokens: TokenSigner,
    clock: Arc<dyn Clock>,
    settings: TrackingSettings,
}

impl std::fmt::Debug for TrackingFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackingFlow")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Where a flow keeps its state: any [`Store`](crate::store::Store).
pub trait FlowStore: Outbox + Ledger + ConsentStore + SnapshotStore {}
impl<T: Outbox + Ledger + ConsentStore + SnapshotStore> FlowStore for T {}

/// How long after a shipment's time an order the platform does not know is waited for.
const FRESH_ORDER: chrono::Duration = chrono::Duration::hours(1);

impl TrackingFlow {
    /// A flow over a shop's orders and customers, a store and a renderer. `tokens` signs
    /// the tracking-page links (purpose `tracking`).
    #[allow(clippy::too_many_arguments)]
    pub fn new<S: FlowStore + 'static>(
        orders: Arc<dyn OrderSource>,
        customers: Arc<dyn CustomerDirectory>,
        store: Arc<S>,
        renderer: Arc<dyn Renderer>,
        content: ContentMap,
        tokens: TokenSigner,
        clock: Arc<dyn Clock>,
        settings: TrackingSettings,
    ) -> Self {
        // What webhooks carried is read first; the platform is asked only for what is
        // missing (`platform::known`), so a tracking message needs no API token when the
        // order's webhook had the order.
        let snapshots: Arc<dyn SnapshotStore> = store.clone();
        Self {
            orders: Arc::new(KnownOrders::new(orders, snapshots.clone())),
            customers: Arc::new(KnownCustomers::new(customers, snapshots.clone())),
            outbox: store.clone(),
            ledger: store.clone(),
            consent: store,
            snapshots,
            renderer,
            content,
            tokens,
            clock,
            settings,
        }
    }

    /// The tracking-page URL for a shipment.
    pub fn page_url(&self, order: &Order, shipment: &Shipment) -> String {
        let token = self.tokens.sign(
            &TrackingClaims {
                o: order.id.0.clone(),
                s: shipment.id.0.clone(),
            },
            self.clock.now() + self.settings.link_ttl,
        );
        format!(
            "{}/t/{token}",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// The order's customer: from a webhook, else the platform, else what the order embeds
    /// ([`known::customer_of_order`]).
    async fn customer_of(&self, order: &Order) -> Result<Option<Customer>, Error> {
        known::customer_of_order(self.customers.as_ref(), order).await
    }

    /// [`Self::customer_of`], the customer's snapshot read through `st` (read ahead).
    async fn customer_in(
        &self,
        order: &Order,
        st: Option<&Stage>,
    ) -> Result<Option<Customer>, Error> {
        match st {
            Some(stage) => known::customer_of_order(&self.customers.reading(stage), order).await,
            None => self.customer_of(order).await,
        }
    }

    async fn skip(
        &self,
        st: Option<&Stage>,
        order: &str,
        channel: Option<ChannelKind>,
        reason: String,
    ) -> Result<(), Error> {
        let mut e = LedgerEntry::new(self.clock.now(), Decision::Skipped, reason);
        e.order_id = Some(order.into());
        e.channel = channel;
        match st {
            Some(stage) => {
                stage.record(e);
                Ok(())
            }
            None => self.ledger.record(e).await,
        }
    }

    /// Where this entry's snapshots are read and written: its stage under a unit of work,
    /// else the store.
    fn snaps<'a>(&'a self, st: Option<&'a Stage>) -> &'a dyn SnapshotStore {
        match st {
            Some(stage) => stage,
            None => self.snapshots.as_ref(),
        }
    }

    /// Handles one shipment state: records it, and enqueues the milestone message if one is
    /// due.
    pub async fn on_shipment(&self, shipment: &Shipment) -> Result<(), Error> {
        self.shipment_with(shipment, None, None).await
    }

    /// [`Self::on_shipment`], given the order when the same webhook carried it and its
    /// snapshot was just stored from it (so the store need not be asked for it back).
    async fn shipment_with(
        &self,
        shipment: &Shipment,
        just_stored: Option<&Order>,
        st: Option<&Stage>,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let version = shipment.updated_at.or(shipment.created_at).unwrap_or(now);
        let before = self
            .snaps(st)
            .snapshot("shipment", &shipment.id.0)
            .await?
            .and_then(|s| serde_json::from_value::<Shipment>(s.data).ok());
        let previous = before.as_ref().and_then(Milestone::for_shipment);
        // A webhook often carries only what changed: what an earlier state knew (the
        // estimate, the carrier, its link) is kept, so the message says the best known.
        let merged;
        let shipment = match &before {
            Some(b) => {
                merged = fill_missing(shipment, b);
                &merged
            }
            None => shipment,
        };
        let stored = self
            .snaps(st)
            .put_if_newer_owned(Snapshot {
                kind: "shipment".into(),
                shop: shipment.shop.clone(),
                id: shipment.id.0.clone(),
                version,
                data: serde_json::to_value(shipment).map_err(|e| Error::decode("shipment", e))?,
            })
            .await?;
        super::feedback::remember_shipment(self.snaps(st), shipment, now).await?;
        let Some(milestone) = Milestone::for_shipment(shipment) else {
            return Ok(());
        };
        let order_id = shipment.order_id.as_str();
        if !stored {
            return self
                .skip(
                    st,
                    order_id,
                    None,
                    format!(
                        "{} for shipment {} arrived out of order: a newer state is already known",
                        milestone.as_str(),
                        shipment.id
                    ),
                )
                .await;
        }
        // Another scan at the same milestone (in transit, then in transit again) is not news;
        // its message, if any, is already in the outbox.
        if previous == Some(milestone) {
            return Ok(());
        }
        if !self.settings.milestones.contains(&milestone) {
            return self
                .skip(
                    st,
                    order_id,
                    None,
                    format!(
                        "milestone {} is not enabled in the settings",
                        milestone.as_str()
                    ),
                )
                .await;
        }
        let order = match just_stored.filter(|o| o.id == shipment.order_id) {
            Some(o) => Some(o.clone()),
            None => self.orders.order(&shipment.order_id).await?,
        };
        let Some(order) = order else {
            // A new order's shipment can arrive before the platform's API serves the order
            // (replication lag, or webhooks in another order): retried with the inbox's
            // backoff while the shipment is fresh, skipped for good after.
            if now.signed_duration_since(version) < FRESH_ORDER {
                return Err(Error::Platform {
                    operation: format!("read order {order_id}"),
                    status: Some(404),
                    message: "the shop does not know this order yet; retried while the shipment is under an hour old".into(),
                    retryable: true,
                });
            }
            return self
                .skip(
                    st,
                    order_id,
                    None,
                    format!("order {order_id} was not found in the shop"),
                )
                .await;
        };
        if order.cancelled {
            return self
                .skip(st, order_id, None, "the order is cancelled".into())
                .await;
        }
        // Lets operators find an order by its human number (`ledger --order '#1001'`).
        self.snaps(st)
            .put_if_newer_owned(Snapshot {
                kind: "order-number".into(),
                shop: order.shop.clone(),
                id: order.number.clone(),
                version: now,
                data: serde_json::Value::String(order.id.0.clone()),
            })
            .await?;
        let customer = self.customer_in(&order, st).await?;
        // The platform may know more than the webhook said (the page shows it): merged in,
        // asked only when something is missing.
        let incomplete = shipment.estimated_delivery.is_none()
            || shipment.carrier.is_none()
            || shipment.tracking_numbers.is_empty();
        let known = if incomplete {
            self.orders.shipments(&order.id).await
        } else {
            Ok(Vec::new())
        };
        let merged = match known {
            Ok(list) => match list.iter().find(|s| s.id == shipment.id) {
                Some(known) => fill_missing(shipment, known),
                None => shipment.clone(),
            },
            Err(e) => {
                tracing::warn!(error = %e, order = order_id, "could not read the order's shipments; the message uses the webhook's");
                shipment.clone()
            }
        };
        let reason = format!(
            "shipment {} reached {} (reported by {})",
            shipment.id,
            milestone.as_str(),
            shipment
                .status_source
                .as_deref()
                .unwrap_or("the shop platform")
        );
        self.enqueue_milestone(
            &merged,
            milestone,
            version,
            &order,
            customer.as_ref(),
            &self.settings.channels,
            reason,
            None,
            st,
        )
        .await
    }

    /// A milestone message the provider could not deliver (a delivery report, see
    /// [`crate::flows::delivery`]) is sent again on the next channel the customer can be
    /// reached on (the settings' order: WhatsApp → SMS → email by default), never on a
    /// channel already tried for that milestone. The new message has its own key, so the
    /// fallback happens once however often the report arrives; when no channel is left, the
    /// ledger says so. Messages that are not milestone messages are not this flow's business.
    pub async fn on_undelivered(&self, failed: &OutboxEntry) -> Result<(), Error> {
        let meta = &failed.message.meta;
        let (Some(shipment_id), Some(milestone)) = (
            meta.get(meta::SHIPMENT),
            meta.get(meta::MILESTONE).and_then(|m| Milestone::parse(m)),
        ) else {
            return Ok(());
        };
        let order_id = failed
            .message
            .order_id
            .as_ref()
            .map_or("", |o| o.as_str())
            .to_owned();
        let Some(shipment) = self
            .snapshots
            .snapshot("shipment", shipment_id)
            .await?
            .and_then(|s| serde_json::from_value::<Shipment>(s.data).ok())
        else {
            return self
                .skip(
                    None,
                    &order_id,
                    None,
                    format!(
                        "no fallback for {}: shipment {shipment_id} is not known",
                        failed.key
                    ),
                )
                .await;
        };
        let mut left = Vec::new();
        for &ch in &self.settings.channels {
            if ch == failed.message.channel {
                continue;
            }
            let key = milestone_key(&shipment.order_id, &shipment.id, milestone, ch);
            match self.outbox.outbox_by_key(&key).await? {
                // This failure's fallback exists already (the report came twice).
                Some(e) if e.message.meta.get(meta::FALLBACK_OF) == Some(&failed.key) => {
                    return Ok(());
                }
                Some(_) => {}
                None => left.push(ch),
            }
        }
        if left.is_empty() {
            return self
                .skip(
                    None,
                    &order_id,
                    None,
                    format!(
                        "{} could not be delivered by {} and no other channel is left to try",
                        milestone.as_str(),
                        failed.message.channel
                    ),
                )
                .await;
        }
        let Some(order) = self.orders.order(&shipment.order_id).await? else {
            return self
                .skip(
                    None,
                    &order_id,
                    None,
                    format!("order {order_id} was not found in the shop"),
                )
                .await;
        };
        let customer = self.customer_of(&order).await?;
        let version = meta
            .get(meta::STATE_AT)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .or(shipment.updated_at)
            .or(shipment.created_at)
            .unwrap_or_else(|| self.clock.now());
        let reason = format!(
            "fallback: {} could not deliver {} ({})",
            failed.message.channel,
            milestone.as_str(),
            failed.key
        );
        self.enqueue_milestone(
            &shipment,
            milestone,
            version,
            &order,
            customer.as_ref(),
            &left,
            reason,
            Some(&failed.key),
            None,
        )
        .await
    }

    /// Renders and enqueues `milestone`'s message on the first of `channels` the customer
    /// can be reached on; ledgers a skip when none.
    #[allow(clippy::too_many_arguments)]
    async fn enqueue_milestone(
        &self,
        shipment: &Shipment,
        milestone: Milestone,
        version: DateTime<Utc>,
        order: &Order,
        customer: Option<&Customer>,
        channels: &[ChannelKind],
        reason: String,
        fallback_of: Option<&str>,
        st: Option<&Stage>,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let order_id = order.id.as_str();
        let consent: &dyn ConsentStore = match st {
            Some(stage) => stage,
            None => self.consent.as_ref(),
        };
        let (channel, to, reason) = match super::reach::choose_channel(
            consent,
            channels,
            Purpose::Transactional,
            order,
            customer,
        )
        .await?
        {
            Ok(found) => (found.channel, found.address.clone(), found.explain(reason)),
            Err(why) => return self.skip(st, order_id, None, why).await,
        };
        let locale = super::reach::locale(order, customer, &self.settings.default_locale);
        let zone = super::reach::time_zone(order, customer);

        let mut page = self.page_url(order, shipment);
        if self.settings.short_links && matches!(channel, ChannelKind::Sms | ChannelKind::Whatsapp)
        {
            let token = page.rsplit('/').next().unwrap_or_default().to_owned();
            let id = crate::links::ShortLinks::new(self.snapshots.clone())
                .shorten("tracking", &token, order.shop.clone(), now)
                .await?;
            page = format!("{}/t/{id}", self.settings.public_url.trim_end_matches('/'));
        }
        let number = shipment
            .tracking_numbers
            .first()
            .cloned()
            .unwrap_or_default();
        // Every channel links to the shop's tracking page (which shows the carrier's link,
        // the guides and support), unless the shop prefers the carrier's page.
        let carrier_link = crate::carrier::tracking_link(
            shipment.tracking_urls.first().map(String::as_str),
            shipment.carrier.as_deref(),
            &number,
        )
        .url;
        let link = match (self.settings.message_link, carrier_link) {
            (MessageLink::Carrier, Some(url)) => url,
            _ => page.clone(),
        };
        let items: Vec<_> = if shipment.line_item_ids.is_empty() {
            order.line_items.clone()
        } else {
            order
                .line_items
                .iter()
                .filter(|l| {
                    l.id.as_ref()
                        .is_some_and(|id| shipment.line_item_ids.contains(id))
                })
                .cloned()
                .collect()
        };
        let tutorials: Vec<(String, String)> = self
            .content
            .links_for(&items, &locale)
            .into_iter()
            .map(|l| (l.title, l.url))
            .collect();
        let mut args = BTreeMap::new();
        args.insert(
            "first_name".to_owned(),
            customer
                .and_then(|c| c.first_name.clone())
                .unwrap_or_default(),
        );
        args.insert("order_number".to_owned(), order.number.clone());
        args.insert(
            "carrier".to_owned(),
            shipment.carrier.clone().unwrap_or_default(),
        );
        args.insert("tracking_number".to_owned(), number.clone());
        args.insert("tracking_url".to_owned(), link.clone());
        args.insert("page_url".to_owned(), page.clone());
        if let Some(s) = &self.settings.support_url {
            args.insert("support_url".to_owned(), s.clone());
        }
        if let Some(eta) = shipment.estimated_delivery {
            args.insert("estimated_delivery".to_owned(), eta.to_rfc3339());
        }
        // The carrier's own words where they help (a weather delay, "customer not home"),
        // and where to collect the parcel.
        if matches!(
            milestone,
            Milestone::Delayed | Milestone::Exception | Milestone::AttemptedDelivery
        ) && let Some(note) = shipment.carrier_message()
        {
            args.insert("carrier_note".to_owned(), note.to_owned());
        }
        if milestone == Milestone::ReadyForPickup
            && let Some(point) = &shipment.pickup_point
        {
            args.insert("pickup_point".to_owned(), point.clone());
        }
        // Dates in the customer's zone, as the tracking page shows them.
        if let Some(z) = zone {
            args.insert("time_zone".to_owned(), z.name().to_owned());
        }
        let rendered = self.renderer.render(&RenderRequest {
            locale: locale.clone(),
            channel,
            message_id: milestone.message_id().into(),
            args: args.clone(),
            tutorials,
            items,
        })?;
        let mut msg = OutboundMessage::new(channel, to, Purpose::Transactional, rendered.text);
        msg.locale = rendered.locale.clone();
        msg.subject = rendered.subject;
        msg.html = rendered.html;
        msg.shop = order.shop.clone();
        msg.order_id = Some(order.id.clone());
        msg.customer_id = order.customer_id.clone();
        msg.meta
            .insert(meta::SHIPMENT.into(), shipment.id.0.clone());
        msg.meta
            .insert(meta::MILESTONE.into(), milestone.as_str().into());
        msg.meta.insert(meta::STATE_AT.into(), version.to_rfc3339());
        msg.meta.insert(
            meta::REPORTED_BY.into(),
            shipment
                .status_source
                .clone()
                .unwrap_or_else(|| "platform".into()),
        );
        if let Some(z) = zone {
            msg.meta.insert(meta::TIME_ZONE.into(), z.name().into());
        }
        if let Some(k) = fallback_of {
            msg.meta.insert(meta::FALLBACK_OF.into(), k.into());
        }
        if channel == ChannelKind::Whatsapp {
            let token = page.rsplit('/').next().unwrap_or_default().to_owned();
            let mut t = TemplateRef::new(
                format!(
                    "{}{}",
                    self.settings.whatsapp_template_prefix,
                    milestone.as_str()
                ),
                rendered.locale.replace('-', "_"),
            );
            let locale = rendered.locale.as_str();
            t.body_params = vec![
                template_param(
                    self.renderer.as_ref(),
                    locale,
                    &args["first_name"],
                    "whatsapp-no-name",
                ),
                order.number.clone(),
                template_param(
                    self.renderer.as_ref(),
                    locale,
                    &args["carrier"],
                    "whatsapp-no-carrier",
                ),
                template_param(
                    self.renderer.as_ref(),
                    locale,
                    &number,
                    "whatsapp-no-tracking-number",
                ),
            ];
            t.url_button_param = Some(token);
            msg.template = Some(t);
        }
        let key = milestone_key(&order.id, &shipment.id, milestone, channel);
        let message = NewOutboxMessage::new(key, msg, now, reason);
        match st {
            Some(stage) => stage.enqueue(message),
            None => {
                self.outbox.enqueue(message, now).await?;
            }
        }
        Ok(())
    }
}

/// A WhatsApp template's body parameter: `value`, or when it is blank the renderer's
/// wording for its absence (`absent_id`, e.g. "there" for a missing first name; a dash if
/// the renderer has none). A template is fixed text approved by Meta, with no selector: an
/// empty parameter would read as an empty slot ("Hi ,") and the Cloud API refuses it
/// ("(#100) Invalid parameter": a `text` parameter is mandatory).
pub fn template_param(
    renderer: &dyn Renderer,
    locale: &str,
    value: &str,
    absent_id: &str,
) -> String {
    if !value.trim().is_empty() {
        return value.trim().to_owned();
    }
    renderer
        .render(&RenderRequest::new(
            locale,
            ChannelKind::Whatsapp,
            absent_id,
            BTreeMap::new(),
        ))
        .map(|r| r.text.trim().to_owned())
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "—".to_owned())
}

/// `fresh` with what it leaves out (carrier, tracking numbers and links, estimate, line
/// items) taken from `known`, a state of the same shipment.
pub fn fill_missing(fresh: &Shipment, known: &Shipment) -> Shipment {
    let mut s = fresh.clone();
    if s.carrier.as_deref().is_none_or(|c| c.trim().is_empty()) {
        s.carrier = known.carrier.clone();
    }
    if s.tracking_numbers.iter().all(|n| n.trim().is_empty()) {
        s.tracking_numbers = known.tracking_numbers.clone();
    }
    if s.tracking_urls.is_empty() {
        s.tracking_urls = known.tracking_urls.clone();
    }
    if s.estimated_delivery.is_none() {
        s.estimated_delivery = known.estimated_delivery;
    }
    if s.line_item_ids.is_empty() {
        s.line_item_ids = known.line_item_ids.clone();
    }
    s
}

impl TrackingFlow {
    /// The events of one entry, reading and writing through `st` under a unit of work.
    async fn handle_with(
        &self,
        events: Vec<PlatformEvent>,
        st: Option<&Stage>,
    ) -> Result<(), HandlerError> {
        let now = self.clock.now();
        // The order this webhook carried, when its snapshot was just stored from it: what
        // the store would answer for it (a newer stored state is read as before).
        let mut stored: Option<Order> = None;
        for e in events {
            match e {
                PlatformEvent::ShipmentCreated { shipment }
                | PlatformEvent::ShipmentUpdated { shipment } => {
                    self.shipment_with(&shipment, stored.as_ref(), st).await?;
                }
                // Kept so the flows and the page need not ask the platform again.
                PlatformEvent::OrderCreated { order }
                | PlatformEvent::OrderPaid { order }
                | PlatformEvent::OrderUpdated { order }
                | PlatformEvent::OrderCancelled { order } => {
                    let kept = known::remember_order(self.snaps(st), &order, now).await?;
                    stored = kept.then_some(order);
                }
                PlatformEvent::CustomerUpdated { customer } => {
                    known::remember_customer(self.snaps(st), &customer, now).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[async_trait]
impl EventHandler for TrackingFlow {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        self.handle_with(events, None).await
    }

    /// What [`Self::handle`] reads for these events: the snapshots of the order, its number,
    /// its customer, each shipment and the order's shipment list; the customer's consent on
    /// each configured channel at the order's addresses (a customer record with other
    /// addresses is asked about when the message is made).
    fn read_keys(&self, events: &[PlatformEvent], keys: &mut ReadKeys) {
        let keys_snapshots = &mut keys.snapshots;
        for e in events {
            match e {
                PlatformEvent::ShipmentCreated { shipment }
                | PlatformEvent::ShipmentUpdated { shipment } => {
                    keys_snapshots.push(("shipment".into(), shipment.id.0.clone()));
                    keys_snapshots.push(("order-shipments".into(), shipment.order_id.0.clone()));
                }
                PlatformEvent::OrderCreated { order }
                | PlatformEvent::OrderPaid { order }
                | PlatformEvent::OrderUpdated { order }
                | PlatformEvent::OrderCancelled { order } => {
                    keys_snapshots.push((known::ORDER_SNAPSHOT.into(), order.id.0.clone()));
                    keys_snapshots.push(("order-number".into(), order.number.clone()));
                    if let Some(c) = &order.customer_id {
                        keys_snapshots.push((known::CUSTOMER_SNAPSHOT.into(), c.0.clone()));
                    }
                    for &ch in &self.settings.channels {
                        if let Some(address) = super::reach::order_address(order, ch) {
                            keys.consents.push((ch, address, Purpose::Transactional));
                        }
                    }
                }
                PlatformEvent::CustomerUpdated { customer } => {
                    keys_snapshots.push((known::CUSTOMER_SNAPSHOT.into(), customer.id.0.clone()));
                }
                _ => {}
            }
        }
    }

    /// The shipments of every order whose webhook left a shipment without an estimate, a
    /// carrier or a tracking number (the flow would ask the platform for each), in one
    /// [`OrderSource::shipments_many`] request for the batch; the answers wait in the
    /// platform cache ([`KnownOrders`]) for each entry. On failure each entry asks again.
    async fn prepare(&self, batch: &[&[PlatformEvent]]) {
        let mut orders: Vec<crate::model::OrderId> = batch
            .iter()
            .flat_map(|events| events.iter())
            .filter_map(|e| match e {
                PlatformEvent::ShipmentCreated { shipment }
                | PlatformEvent::ShipmentUpdated { shipment }
                    if shipment.estimated_delivery.is_none()
                        || shipment.carrier.is_none()
                        || shipment.tracking_numbers.is_empty() =>
                {
                    Some(shipment.order_id.clone())
                }
                _ => None,
            })
            .collect();
        orders.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        orders.dedup();
        if orders.is_empty() {
            return;
        }
        if let Err(e) = self.orders.shipments_many(&orders).await {
            tracing::warn!(error = %e, orders = orders.len(), "could not read the batch's shipments ahead; each order asks for its own");
        }
    }

    async fn handle_staged(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
        stage: &Stage,
    ) -> Result<(), HandlerError> {
        self.handle_with(events, Some(stage)).await
    }
}

/// Defers messages that would arrive at night in the customer's time zone until the window
/// opens; never drops them.
#[derive(Clone, Debug)]
pub struct QuietHoursPolicy {
    start: NaiveTime,
    end: NaiveTime,
    fallback: Tz,
}

impl QuietHoursPolicy {
    /// Quiet from `start` to `end` local time (e.g. 21:00 to 08:00), using `fallback` when
    /// the customer's zone is unknown.
    pub fn new(start: NaiveTime, end: NaiveTime, fallback: Tz) -> Self {
        Self {
            start,
            end,
            fallback,
        }
    }

    /// When the quiet period covering `now` ends, or `None` if `now` is not quiet.
    pub fn quiet_until(&self, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&zone);
        let t = local.time();
        let quiet = if self.start <= self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        };
        if !quiet {
            return None;
        }
        let mut day = local.date_naive();
        if t >= self.end {
            day = day.succ_opt()?;
        }
        let naive = day.and_time(self.end);
        // Around a DST change the end time may not exist or be ambiguous: take the earliest
        // valid instant at or after it.
        let resolved = zone.from_local_datetime(&naive).earliest().or_else(|| {
            zone.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })?;
        Some(resolved.with_timezone(&Utc))
    }
}

#[async_trait]
impl SendPolicy for QuietHoursPolicy {
    async fn check(&self, entry: &OutboxEntry, now: DateTime<Utc>) -> Result<Verdict, Error> {
        // A signed webhook goes to a system (a helpdesk), not to a person's phone.
        if entry.message.channel == ChannelKind::Webhook {
            return Ok(Verdict::Send);
        }
        let zone = entry
            .message
            .meta
            .get(meta::TIME_ZONE)
            .and_then(|z| z.parse::<Tz>().ok())
            .unwrap_or(self.fallback);
        Ok(match self.quiet_until(now, zone) {
            Some(until) => Verdict::Defer {
                until,
                reason: format!(
                    "quiet hours in {} ({} local); deferred to {}",
                    zone.name(),
                    now.with_timezone(&zone).format("%H:%M"),
                    until.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z")
                ),
            },
            None => Verdict::Send,
        })
    }
}

/// Skips a milestone message that a later state of its shipment made pointless: the
/// shipment moved on (a newer state with another milestone) before the message went out,
/// e.g. delivered before the out-for-delivery message left quiet hours, or a redelivery
/// under way before the failed-attempt notice went out. A delivered message is never
/// superseded.
pub struct SupersededPolicy {
    snapshots: Arc<dyn SnapshotStore>,
}

impl std::fmt::Debug for SupersededPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SupersededPolicy")
    }
}

impl SupersededPolicy {
    /// A policy reading shipment snapshots.
    pub fn new(snapshots: Arc<dyn SnapshotStore>) -> Self {
        Self { snapshots }
    }
}

#[async_trait]
impl SendPolicy for SupersededPolicy {
    async fn check(&self, entry: &OutboxEntry, _now: DateTime<Utc>) -> Result<Verdict, Error> {
        let m = &entry.message.meta;
        let (Some(sid), Some(ms)) = (
            m.get(meta::SHIPMENT),
            m.get(meta::MILESTONE).and_then(|s| Milestone::parse(s)),
        ) else {
            return Ok(Verdict::Send);
        };
        let Some(snap) = self.snapshots.snapshot("shipment", sid).await? else {
            return Ok(Verdict::Send);
        };
        let Ok(current) = serde_json::from_value::<Shipment>(snap.data.clone()) else {
            return Ok(Verdict::Send);
        };
        // The state the message was written for; without it, fall back to progress ranks.
        let state_at = m
            .get(meta::STATE_AT)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let moved_on = |cm: Milestone| match state_at {
            Some(at) => snap.version > at && ms != Milestone::Delivered,
            None => cm.rank() > ms.rank(),
        };
        Ok(match Milestone::for_shipment(&current) {
            Some(cm) if cm != ms && moved_on(cm) => Verdict::Skip {
                reason: format!(
                    "superseded: shipment {sid} is already {} so the {} message is not sent",
                    cm.as_str(),
                    ms.as_str()
                ),
            },
            _ => Verdict::Send,
        })
    }
}
