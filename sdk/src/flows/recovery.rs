//! Service recovery: acting on the early signs of a bad experience, before (or without) a
//! survey answer — a delivery exception, a delay past a threshold, a failed delivery
//! attempt, a detractor's score, a complaint reply.
//!
//! Actions, each configurable and each **at most once per order**, whatever the signal and
//! however often it comes:
//! - an **apology** in the customer's language (`recovery-apology`), through the outbox
//!   under the key `recovery:{shop}:{order}:apology` (the outbox keeps one message per key);
//! - a **discount code** in that apology (`recovery-apology-code`), created through the
//!   platform's [`DiscountCodes`] under a name derived from the order
//!   ([`recovery_code`]): the ledger row `recovery:{shop}:{order}:code` records it; after a
//!   crash between the platform's answer and that row the second creation is the
//!   platform's "already exists", so there is one code and one apology. A code is offered
//!   **only with a recorded marketing opt-in** on the channel used (the platform's or the
//!   consent store's; a refusal always wins): a customer who opted out of marketing, or
//!   never opted in, gets the apology without a code;
//! - an order **tag** through the [`OrderAnnotator`] (ledger row `recovery:{shop}:{order}:tag`);
//! - a **support ticket** (off by default, [`RecoverySettings::ticket`]) through the
//!   [`TicketFlow`]'s helpdesk: the incident `recovery:{shop}:{order}` (ledger row
//!   `ticket:recovery:{shop}:{order}`), on the order's ticket (external id
//!   `aftercare-{shop}-{order}`): opened when the order has none, a note on the one it
//!   has (a complaint's or a detractor's), found at the desk by its marker tag after a
//!   crash — never a second ticket, never a second note for recovery.
//!
//! Every action's outcome is in the ledger with its reason (the signal). The flow also marks
//! the order in the [`RetentionStore`] (`signal`, `recovered`), so the retention report
//! compares the repeat purchase of recovered and unrecovered customers.
//!
//! A **complaint** is a survey reply that reads as one
//! ([`is_late_complaint`](super::tickets::is_late_complaint)): the feedback flow hands it
//! to [`RecoveryFlow::on_complaint`] (with [`FollowUp::recovery`](super::feedback::FollowUp::recovery)),
//! however often the customer writes.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Error;
use crate::clock::Clock;
use crate::flows::tickets::{Incident, IncidentKind, TicketFlow};
use crate::flows::tracking::{RenderRequest, Renderer};
use crate::helpdesk::{OrderContext, Requester};
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{
    ChannelKind, ConsentState, Customer, Order, OrderId, OutboundMessage, PlatformEvent, Purpose,
    Shipment, ShipmentStatus, ShopId, SurveyResponse,
};
use crate::platform::discount::{
    CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode, recovery_code,
};
use crate::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use crate::retention::facts::{DIM_RECOVERED, DIM_SIGNAL, RetentionStore};
use crate::store::{
    ConsentStore, Decision, Ledger, LedgerEntry, NewOutboxMessage, Outbox, OutboxEntry,
};

/// An early sign of a bad experience.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// The carrier reported an exception (lost, damaged, held in customs...).
    Exception,
    /// A delivery attempt failed.
    FailedAttempt,
    /// Undelivered, or delivered, later than the estimate by the threshold or more.
    Delay,
    /// A detractor's survey answer.
    Detractor,
    /// The customer complained (a late-delivery or help reply).
    Complaint,
}

impl Signal {
    /// Stable text form (ledger reasons, settings).
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Exception => "exception",
            Signal::FailedAttempt => "failed_attempt",
            Signal::Delay => "delay",
            Signal::Detractor => "detractor",
            Signal::Complaint => "complaint",
        }
    }
}

/// The discount offered in an apology.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscountOffer {
    /// What it takes off.
    pub value: DiscountValue,
    /// How many days it is valid (default 60).
    pub valid_days: i64,
    /// The code's prefix (default `SORRY`).
    pub prefix: String,
}

impl DiscountOffer {
    /// An offer of `value`, valid 60 days, codes `SORRY-…`.
    pub fn new(value: DiscountValue) -> Self {
        Self {
            value,
            valid_days: 60,
            prefix: "SORRY".into(),
        }
    }
}

/// What the recovery flow reacts to and does.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RecoverySettings {
    /// The signals acted on (default: all five).
    pub signals: Vec<Signal>,
    /// A delay counts from this far past the estimate (default 2 days).
    pub delay_threshold: chrono::Duration,
    /// Send an apology (default on).
    pub apology: bool,
    /// Offer a discount code in it (default none; needs [`RecoveryFlow::with_discounts`]).
    pub offer: Option<DiscountOffer>,
    /// Tag the order (default `aftercare-recovery`; needs [`RecoveryFlow::with_annotator`]).
    pub tag: Option<String>,
    /// Open (or note on) the order's support ticket (default off; needs
    /// [`RecoveryFlow::with_tickets`]).
    pub ticket: bool,
    /// Channel preference for the apology (default email, then SMS).
    pub channels: Vec<ChannelKind>,
    /// Locale when the customer's is unknown (default `en`).
    pub default_locale: String,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            signals: vec![
                Signal::Exception,
                Signal::FailedAttempt,
                Signal::Delay,
                Signal::Detractor,
                Signal::Complaint,
            ],
            delay_threshold: chrono::Duration::days(2),
            apology: true,
            offer: None,
            tag: Some("aftercare-recovery".into()),
            ticket: false,
            channels: vec![ChannelKind::Email, ChannelKind::Sms],
            default_locale: "en".into(),
        }
    }
}

impl RecoverySettings {
    /// Sets the signals acted on.
    pub fn with_signals(mut self, signals: Vec<Signal>) -> Self {
        self.signals = signals;
        self
    }
    /// Sets the delay threshold.
    pub fn with_delay_threshold(mut self, d: chrono::Duration) -> Self {
        self.delay_threshold = d;
        self
    }
    /// Turns the apology on or off.
    pub fn with_apology(mut self, on: bool) -> Self {
        self.apology = on;
        self
    }
    /// Sets the discount offered.
    pub fn with_offer(mut self, offer: Option<DiscountOffer>) -> Self {
        self.offer = offer;
        self
    }
    /// Sets the order tag.
    pub fn with_tag(mut self, tag: Option<String>) -> Self {
        self.tag = tag;
        self
    }
    /// Turns the support ticket on or off.
    pub fn with_ticket(mut self, on: bool) -> Self {
        self.ticket = on;
        self
    }
    /// Sets the channel preference.
    pub fn with_channels(mut self, channels: Vec<ChannelKind>) -> Self {
        self.channels = channels;
        self
    }
    /// Sets the default locale.
    pub fn with_default_locale(mut self, locale: impl Into<String>) -> Self {
        self.default_locale = locale.into();
        self
    }
}

/// What [`RecoveryFlow::recover`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryOutcome {
    /// The apology's outbox key, when one is (or was already) enqueued.
    pub apology: Option<String>,
    /// The code offered in it, if any.
    pub code: Option<String>,
    /// The tag added now.
    pub tagged: bool,
    /// The ticket opened or noted on now (its id at the desk).
    pub ticket: Option<String>,
}

/// The service-recovery flow (see the [module](self) documentation).
#[derive(Clone)]
pub struct RecoveryFlow {
    outbox: Arc<dyn Outbox>,
    ledger: Arc<dyn Ledger>,
    consent: Arc<dyn ConsentStore>,
    orders: Arc<dyn OrderSource>,
    customers: Arc<dyn CustomerDirectory>,
    renderer: Arc<dyn Renderer>,
    clock: Arc<dyn Clock>,
    code_key: crate::webhook::Secret,
    discounts: Option<Arc<dyn DiscountCodes>>,
    annotator: Option<Arc<dyn OrderAnnotator>>,
    tickets: Option<Arc<TicketFlow>>,
    retention: Option<Arc<dyn RetentionStore>>,
    settings: RecoverySettings,
}

impl std::fmt::Debug for RecoveryFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryFlow")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RecoveryFlow {
    /// A flow over a store, the shop's orders and customers, a renderer and a clock;
    /// `code_key` keys the discount codes' names (keep it secret and stable).
    pub fn new<S>(
        store: Arc<S>,
        orders: Arc<dyn OrderSource>,
        customers: Arc<dyn CustomerDirectory>,
        renderer: Arc<dyn Renderer>,
        clock: Arc<dyn Clock>,
        code_key: crate::webhook::Secret,
    ) -> Self
    where
        S: Outbox + Ledger + ConsentStore + 'static,
    {
        Self {
            outbox: store.clone(),
            ledger: store.clone(),
            consent: store,
            orders,
            customers,
            renderer,
            clock,
            code_key,
            discounts: None,
            annotator: None,
            tickets: None,
            retention: None,
            settings: RecoverySettings::default(),
        }
    }

    /// Sets the settings.
    pub fn with_settings(mut self, settings: RecoverySettings) -> Self {
        self.settings = settings;
        self
    }
    /// Creates discount codes through `d`.
    pub fn with_discounts(mut self, d: Arc<dyn DiscountCodes>) -> Self {
        self.discounts = Some(d);
        self
    }
    /// Tags orders through `a`.
    pub fn with_annotator(mut self, a: Arc<dyn OrderAnnotator>) -> Self {
        self.annotator = Some(a);
        self
    }
    /// Opens support tickets through `t` (with [`RecoverySettings::ticket`]).
    pub fn with_tickets(mut self, t: Arc<TicketFlow>) -> Self {
        self.tickets = Some(t);
        self
    }
    /// Marks signals and recoveries in `r` for the retention report.
    pub fn with_retention(mut self, r: Arc<dyn RetentionStore>) -> Self {
        self.retention = Some(r);
        self
    }

    /// The signal a shipment shows at `now`, if any (see [`Signal`]).
    pub fn signal_of(&self, s: &Shipment, now: DateTime<Utc>) -> Option<Signal> {
        let on = |sig| self.settings.signals.contains(&sig);
        let seen =
            |st: &ShipmentStatus| s.status == *st || s.events.iter().any(|e| e.status == *st);
        if on(Signal::Exception) && seen(&ShipmentStatus::Exception) {
            return Some(Signal::Exception);
        }
        if on(Signal::FailedAttempt) && seen(&ShipmentStatus::AttemptedDelivery) {
            return Some(Signal::FailedAttempt);
        }
        let eta = s.estimated_delivery?;
        let at = match s.status {
            ShipmentStatus::Delivered => s
                .events
                .iter()
                .filter(|e| e.status == ShipmentStatus::Delivered)
                .map(|e| e.happened_at)
                .min()
                .or(s.updated_at)?,
            ShipmentStatus::Cancelled | ShipmentStatus::Returned => return None,
            _ => now,
        };
        (on(Signal::Delay) && at - eta >= self.settings.delay_threshold).then_some(Signal::Delay)
    }

    /// A survey answer: a detractor's is a signal.
    pub async fn on_answer(
        &self,
        shop: Option<&ShopId>,
        r: &SurveyResponse,
    ) -> Result<Option<RecoveryOutcome>, Error> {
        if !r.kind.is_detractor(r.score) || !self.settings.signals.contains(&Signal::Detractor) {
            return Ok(None);
        }
        self.recover(shop, &r.order_id, Signal::Detractor)
            .await
            .map(Some)
    }

    /// A complaint about an order (a late-delivery or help reply).
    pub async fn on_complaint(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
    ) -> Result<Option<RecoveryOutcome>, Error> {
        if !self.settings.signals.contains(&Signal::Complaint) {
            return Ok(None);
        }
        self.recover(shop, order, Signal::Complaint).await.map(Some)
    }

    fn key(shop: Option<&ShopId>, order: &OrderId, action: &str) -> String {
        format!(
            "recovery:{}:{}:{action}",
            shop.map_or("", ShopId::as_str),
            order.as_str()
        )
    }

    async fn done(&self, key: &str) -> Result<bool, Error> {
        Ok(self
            .ledger
            .ledger_for_key(key)
            .await?
            .iter()
            .any(|e| e.decision == Decision::Sent))
    }

    async fn ledger(
        &self,
        key: Option<String>,
        order: &Order,
        decision: Decision,
        reason: String,
    ) -> Result<(), Error> {
        let mut e = LedgerEntry::new(self.clock.now(), decision, reason);
        e.key = key;
        e.shop = order.shop.clone();
        e.order_id = Some(order.id.clone());
        e.customer_id = order.customer_id.clone();
        self.ledger.record(e).await
    }

    async fn mark(&self, order: &Order, dim: &str) -> Result<(), Error> {
        if let Some(r) = &self.retention {
            let d = BTreeMap::from([(dim.to_owned(), "yes".to_owned())]);
            r.set_experience(order.shop.as_ref(), &order.id, &d).await?;
        }
        Ok(())
    }

    /// Whether a marketing offer may go to `address` on `channel`: a recorded opt-in (the
    /// consent store's decision wins over the platform's) and no refusal.
    async fn may_offer(
        &self,
        channel: ChannelKind,
        address: &str,
        customer: Option<&Customer>,
    ) -> Result<bool, Error> {
        let platform = customer.map_or(ConsentState::Unknown, |c| {
            c.consent(Purpose::Marketing, channel)
        });
        let stored = self
            .consent
            .consent(channel, address, Purpose::Marketing)
            .await?
            .map(|r| r.state);
        Ok(stored.unwrap_or(platform) == ConsentState::Granted)
    }

    /// Acts on a signal about an order, once per action (see the [module](self)
    /// documentation). Errors (the platform, the store) are for the inbox to retry: every
    /// step already done is skipped the next time.
    pub async fn recover(
        &self,
        shop: Option<&ShopId>,
        order_id: &OrderId,
        signal: Signal,
    ) -> Result<RecoveryOutcome, Error> {
        let mut out = RecoveryOutcome::default();
        let Some(order) = self.orders.order(order_id).await? else {
            let mut e = LedgerEntry::new(
                self.clock.now(),
                Decision::Skipped,
                format!(
                    "recovery ({}): order {order_id} not found in the shop",
                    signal.as_str()
                ),
            );
            e.shop = shop.cloned();
            e.order_id = Some(order_id.clone());
            self.ledger.record(e).await?;
            return Ok(out);
        };
        self.mark(&order, DIM_SIGNAL).await?;
        let customer =
            crate::platform::known::customer_of_order(self.customers.as_ref(), &order).await?;
        if let (Some(tag), Some(a)) = (&self.settings.tag, &self.annotator) {
            let key = Self::key(shop, order_id, "tag");
            if !self.done(&key).await? {
                a.add_order_tags(order_id, std::slice::from_ref(tag))
                    .await?;
                self.ledger(
                    Some(key),
                    &order,
                    Decision::Sent,
                    format!("recovery ({}): order tagged {tag}", signal.as_str()),
                )
                .await?;
                out.tagged = true;
            }
        }
        if let (true, Some(t)) = (self.settings.ticket, &self.tickets) {
            out.ticket = self
                .ticket(t, shop, &order, customer.as_ref(), signal)
                .await?;
        }
        if self.settings.apology {
            let key = Self::key(shop, order_id, "apology");
            if let Some(existing) = self.outbox.outbox_by_key(&key).await? {
                out.apology = Some(key);
                out.code = existing.message.meta.get("discount_code").cloned();
            } else {
                self.apologise(&order, customer.as_ref(), signal, key, &mut out)
                    .await?;
            }
        }
        if out.apology.is_some() || out.tagged || out.ticket.is_some() {
            self.mark(&order, DIM_RECOVERED).await?;
        }
        Ok(out)
    }

    /// The order's support ticket, once per order: the id of the ticket opened or noted
    /// on now, `None` when it was done before.
    async fn ticket(
        &self,
        t: &TicketFlow,
        shop: Option<&ShopId>,
        order: &Order,
        customer: Option<&Customer>,
        signal: Signal,
    ) -> Result<Option<String>, Error> {
        let mut requester = Requester {
            name: customer.and_then(|c| {
                let n = [c.first_name.as_deref(), c.last_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!n.is_empty()).then_some(n)
            }),
            email: customer
                .and_then(|c| c.email.clone())
                .or_else(|| order.email.clone()),
            phone: customer
                .and_then(|c| c.phone.clone())
                .or_else(|| order.phone.clone()),
            locale: None,
        };
        requester.locale = Some(super::reach::locale(
            order,
            customer,
            &self.settings.default_locale,
        ));
        let mut context = OrderContext::new(order.id.as_str());
        context.order_number = Some(order.number.clone());
        context.products = order.line_items.iter().map(|l| l.title.clone()).collect();
        let mut incident = Incident::new(
            format!(
                "recovery:{}:{}",
                shop.map_or("", ShopId::as_str),
                order.id.as_str()
            ),
            context,
            requester,
            IncidentKind::Recovery {
                signal: signal.as_str().to_owned(),
            },
            self.clock.now(),
        );
        incident.shop = shop.cloned();
        incident.customer_id = order.customer_id.clone();
        Ok(match t.report(&incident).await? {
            crate::flows::tickets::TicketOutcome::Opened(id)
            | crate::flows::tickets::TicketOutcome::Noted(id) => Some(id),
            _ => {
                // Done before (a retry, another signal): the order was recovered then.
                self.mark(order, DIM_RECOVERED).await?;
                None
            }
        })
    }

    async fn apologise(
        &self,
        order: &Order,
        customer: Option<&Customer>,
        signal: Signal,
        key: String,
        out: &mut RecoveryOutcome,
    ) -> Result<(), Error> {
        let shop = order.shop.as_ref();
        let reason = format!("recovery ({}): apology", signal.as_str());
        let chosen = match super::reach::choose_channel(
            self.consent.as_ref(),
            &self.settings.channels,
            Purpose::Transactional,
            order,
            customer,
        )
        .await?
        {
            Ok(c) => c,
            Err(why) => {
                return self
                    .ledger(
                        Some(key),
                        order,
                        Decision::Skipped,
                        format!("{reason}: {why}"),
                    )
                    .await;
            }
        };
        let locale = super::reach::locale(order, customer, &self.settings.default_locale);
        let mut args = BTreeMap::new();
        args.insert(
            "first_name".to_owned(),
            customer
                .and_then(|c| c.first_name.clone())
                .unwrap_or_default(),
        );
        args.insert("order_number".to_owned(), order.number.clone());
        let mut note = String::new();
        let mut code = None;
        match (&self.settings.offer, &self.discounts) {
            (Some(offer), Some(d)) => {
                if self
                    .may_offer(chosen.channel, &chosen.address, customer)
                    .await?
                {
                    let c = recovery_code(self.code_key.expose(), shop, &order.id, &offer.prefix);
                    let code_key = Self::key(shop, &order.id, "code");
                    if !self.done(&code_key).await? {
                        let now = self.clock.now();
                        let mut req = NewDiscountCode::new(
                            c.clone(),
                            offer.value.clone(),
                            order.id.clone(),
                            now,
                        );
                        req.shop = order.shop.clone();
                        req.customer_id = order.customer_id.clone();
                        req.ends_at = Some(now + chrono::Duration::days(offer.valid_days));
                        req.title = format!("Aftercare apology for order {}", order.number);
                        let what = match d.create_code(&req).await? {
                            CodeCreated::Created(id) => format!("created (platform id {id})"),
                            CodeCreated::AlreadyExists => {
                                "existed already (created before a restart)".to_owned()
                            }
                        };
                        self.ledger(
                            Some(code_key),
                            order,
                            Decision::Sent,
                            format!("{reason}: discount code {what}"),
                        )
                        .await?;
                    }
                    args.insert("code".to_owned(), c.clone());
                    args.insert("discount".to_owned(), discount_text(&locale, &offer.value));
                    code = Some(c);
                } else {
                    note = "; no code offered: no marketing opt-in on this channel".to_owned();
                }
            }
            (Some(_), None) => note = "; no code offered: the platform cannot create codes".into(),
            _ => {}
        }
        let message_id = if code.is_some() {
            "recovery-apology-code"
        } else {
            "recovery-apology"
        };
        let rendered = self.renderer.render(&RenderRequest {
            locale,
            channel: chosen.channel,
            message_id: message_id.to_owned(),
            args,
            tutorials: Vec::new(),
            items: Vec::new(),
        })?;
        let mut msg = OutboundMessage::new(
            chosen.channel,
            chosen.address.clone(),
            Purpose::Transactional,
            rendered.text,
        );
        msg.locale = rendered.locale;
        msg.subject = rendered.subject;
        msg.html = rendered.html;
        msg.shop = order.shop.clone();
        msg.order_id = Some(order.id.clone());
        msg.customer_id = order.customer_id.clone();
        msg.meta
            .insert("recovery_signal".into(), signal.as_str().into());
        if let Some(c) = &code {
            msg.meta.insert("discount_code".into(), c.clone());
        }
        let now = self.clock.now();
        self.outbox
            .enqueue(
                NewOutboxMessage::new(
                    key.clone(),
                    msg,
                    now,
                    chosen.explain(format!("{reason}{note}")),
                ),
                now,
            )
            .await?;
        out.apology = Some(key);
        out.code = code;
        Ok(())
    }

    /// The apology message of an order, if one was enqueued.
    pub async fn apology_for(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
    ) -> Result<Option<OutboxEntry>, Error> {
        self.outbox
            .outbox_by_key(&Self::key(shop, order, "apology"))
            .await
    }
}

/// `15%` or the amount in the customer's locale.
fn discount_text(locale: &str, v: &DiscountValue) -> String {
    match v {
        DiscountValue::Percent(p) => format!("{p}%"),
        DiscountValue::Amount(m) => {
            crate::l10n::format::format_money(locale, m.minor_units, &m.currency)
        }
    }
}

#[async_trait]
impl EventHandler for RecoveryFlow {
    async fn handle(
        &self,
        _entry: &crate::store::InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        let now = self.clock.now();
        for e in events {
            if let PlatformEvent::ShipmentCreated { shipment }
            | PlatformEvent::ShipmentUpdated { shipment } = e
                && let Some(signal) = self.signal_of(&shipment, now)
            {
                self.recover(shipment.shop.as_ref(), &shipment.order_id, signal)
                    .await?;
            }
        }
        Ok(())
    }
}
