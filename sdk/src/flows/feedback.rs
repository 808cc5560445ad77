//! Feedback: ask how it went after delivery, read the answers, act on unhappy ones.
//!
//! - **Scheduling** ([`FeedbackFlow`]): a shipment that ships schedules a fallback invitation
//!   M days later; one that is delivered schedules the invitation N days after delivery. Both
//!   go through the outbox (so quiet hours, consent and channel rules apply), each with its
//!   own reminder R days after it. At most one invitation per order and survey kind is ever
//!   sent, and at most one reminder. The after-delivery invitation is saved when scheduled;
//!   the fallback is saved only when it is sent, so a delivery reported before the fallback
//!   is due gives the invitation its own dates (survey window, cool-down).
//! - **At dispatch** ([`SurveyPolicy`]): the fallback is skipped once a delivery is known; a
//!   second variant is skipped once one was sent; nothing is sent while a shipment exception
//!   is open (deferred a day at a time until the survey would close), while an earlier
//!   complaint from the customer is open, or within the cool-down since their last survey;
//!   a reminder goes only if its own invitation went out and is unanswered.
//! - **Undelivered invitations** ([`FeedbackFlow::on_undelivered`]): an invitation the
//!   provider reports undelivered is sent once on the next survey channel not yet tried,
//!   with the same link; its reminder, if not sent yet, follows it there.
//! - **Replies** ([`FeedbackFlow::on_reply`]): a reply to an SMS or WhatsApp invitation
//!   becomes a score ([`crate::reply::parse_score`], or a button payload `score:N`);
//!   anything else gets one polite re-ask; a reply holding two numbers ("3 or 4", "1 0") is
//!   not scored either: it is kept as a comment and the customer is asked once, per
//!   invitation, to answer with one number (`survey-clarify`); after the survey closed,
//!   nothing is scored: the reply's text is kept as a comment
//!   ([`crate::store::SurveyStore::add_comment`]).
//! - **Follow-up** ([`FollowUp`]): a detractor (NPS 0-6, CSAT 1-2) alerts support by email
//!   and/or a signed webhook and tags the order and customer in the shop; a promoter can get
//!   a review request (a marketing message: it needs marketing consent, from the consent
//!   store or, with [`FollowUp::customers`], the platform). All idempotent, all ledgered.
//!   Answers on the survey page reach it through the inbox ([`AnswerQueue`]), so a failing
//!   shop API delays a follow-up and never loses it; replies already come through the inbox.
//! - **Report facts** ([`SurveyFacts`]): products, carrier, first delivery estimate and
//!   delivery time, kept per invitation (snapshot kind [`FACTS_SNAPSHOT`]) for breakdowns.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tracking::{Milestone, RenderRequest, Renderer, meta as tmeta};
use crate::Error;
use crate::clock::Clock;
use crate::dispatch::{SendPolicy, Verdict};
use crate::html::escape;
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{
    ChannelKind, Customer, InboundMessage, Invitation, Order, OrderId, OutboundMessage,
    PlatformEvent, Purpose, Shipment, SurveyKind, SurveyResponse, TemplateRef,
};
use crate::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use crate::store::{
    ConsentStore, Decision, Inbox, InboxEntry, Ledger, LedgerEntry, NewInboxEntry,
    NewOutboxMessage, Outbox, OutboxEntry, OutboxStatus, SnapshotStore, SurveyStore,
};
use crate::token::TokenSigner;
use crate::webhook::{Rejection, VerifiedWebhook, WebhookRequest, WebhookSource};

/// Message meta keys of survey messages.
pub mod meta {
    /// The invitation a message belongs to.
    pub const INVITATION: &str = "survey_invitation";
    /// `after_delivery`, `after_shipping`, `reminder`, `reask`, `clarify`, `thanks`.
    pub const ROLE: &str = "survey_role";
    /// On a reminder: the role of the invitation it follows (`after_delivery`,
    /// `after_shipping`).
    pub const REMINDS: &str = "survey_reminds";
    /// On an after-shipping fallback not saved yet: the invitation (JSON), saved by
    /// [`SurveyPolicy`](super::SurveyPolicy) when the fallback is sent.
    pub const PENDING_INVITATION: &str = "survey_pending_invitation";
}

/// Settings of one survey.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SurveySettings {
    /// What is asked.
    pub kind: SurveyKind,
    /// Days after delivery to ask.
    pub days_after_delivery: u32,
    /// Days after shipping to ask when no delivery event ever comes.
    pub days_after_shipping: u32,
    /// Days after the invitation for the one reminder; `None` for no reminder.
    pub reminder_after_days: Option<u32>,
    /// Days the survey stays open after it is sent.
    pub open_days: u32,
    /// Days after a survey before the same customer is asked again.
    pub cooldown_days: u32,
    /// Days a detractor answer counts as an open complaint.
    pub complaint_days: u32,
    /// Channel preference, first reachable wins (what each channel needs:
    /// [`TrackingSettings::channels`](crate::flows::tracking::TrackingSettings::channels)).
    pub channels: Vec<ChannelKind>,
    /// Locale when the customer's is unknown.
    pub default_locale: String,
    /// Aftercare's public base URL, for the survey links.
    pub public_url: String,
    /// SMS and WhatsApp invitations carry a 16-character short link id instead of the
    /// signed token ([`crate::links`]); the survey page must be given the same store
    /// ([`SurveyPage::short_links`](crate::http::survey::SurveyPage::short_links)).
    #[serde(default)]
    pub short_links: bool,
}

impl Default for SurveySettings {
    fn default() -> Self {
        Self {
            kind: SurveyKind::Nps,
            days_after_delivery: 3,
            days_after_shipping: 14,
            reminder_after_days: Some(3),
            open_days: 14,
            cooldown_days: 90,
            complaint_days: 30,
            channels: vec![ChannelKind::Email, ChannelKind::Whatsapp, ChannelKind::Sms],
            default_locale: "en".into(),
            public_url: "http://127.0.0.1:8080".into(),
            short_links: false,
        }
    }
}

fn days(n: u32) -> chrono::Duration {
    chrono::Duration::days(i64::from(n))
}

/// What the flow stores: any [`Store`](crate::store::Store).
pub trait FeedbackStore: Outbox + Ledger + ConsentStore + SnapshotStore + SurveyStore {}
impl<T: Outbox + Ledger + ConsentStore + SnapshotStore + SurveyStore> FeedbackStore for T {}

/// The feedback flow.
pub struct FeedbackFlow {
    orders: Arc<dyn OrderSource>,
    customers: Arc<dyn CustomerDirectory>,
    outbox: Arc<dyn Outbox>,
    ledger: Arc<dyn Ledger>,
    consent: Arc<dyn ConsentStore>,
    surveys: Arc<dyn SurveyStore>,
    snapshots: Arc<dyn SnapshotStore>,
    renderer: Arc<dyn Renderer>,
    tokens: TokenSigner,
    clock: Arc<dyn Clock>,
    settings: SurveySettings,
    follow_up: Option<Arc<FollowUp>>,
}

impl std::fmt::Debug for FeedbackFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackFlow")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The invitation id for an order and survey kind: one per order and kind.
pub fn invitation_id(order: &OrderId, kind: SurveyKind) -> String {
    format!("{order}-{}", kind.as_str())
}

/// The snapshot kind under which [`SurveyFacts`] are kept, by invitation id.
pub const FACTS_SNAPSHOT: &str = "survey-facts";

/// What a report breaks an invitation's answer down by, saved when the survey is scheduled
/// (snapshot kind [`FACTS_SNAPSHOT`], id = the invitation id). Holds no personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SurveyFacts {
    /// The titles of the order's products.
    pub products: Vec<String>,
    /// The shipment's carrier.
    pub carrier: Option<String>,
    /// The order's number as the customer knows it (`#1001`).
    pub order_number: Option<String>,
    /// The first delivery estimate the carrier gave: the promise lateness is measured against.
    pub estimated_delivery: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The claims of a survey link (purpose `survey`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyClaims {
    /// Invitation id.
    pub i: String,
}

impl FeedbackFlow {
    /// A flow; `tokens` has purpose `survey` (the survey page's signer).
    #[allow(clippy::too_many_arguments)]
    pub fn new<S: FeedbackStore + 'static>(
        orders: Arc<dyn OrderSource>,
        customers: Arc<dyn CustomerDirectory>,
        store: Arc<S>,
        renderer: Arc<dyn Renderer>,
        tokens: TokenSigner,
        clock: Arc<dyn Clock>,
        settings: SurveySettings,
    ) -> Self {
        Self {
            orders,
            customers,
            outbox: store.clone(),
            ledger: store.clone(),
            consent: store.clone(),
            surveys: store.clone(),
            snapshots: store,
            renderer,
            tokens,
            clock,
            settings,
            follow_up: None,
        }
    }

    /// Runs `follow_up` after answers given by reply (the page takes it as its hook).
    pub fn follow_up(mut self, follow_up: Arc<FollowUp>) -> Self {
        self.follow_up = Some(follow_up);
        self
    }

    /// The survey link for an invitation, optionally with a preselected score.
    pub fn survey_url(&self, inv: &Invitation, score: Option<u8>) -> String {
        let token = self
            .tokens
            .sign(&SurveyClaims { i: inv.id.clone() }, inv.closes_at);
        let base = format!(
            "{}/s/{token}",
            self.settings.public_url.trim_end_matches('/')
        );
        match score {
            Some(s) => format!("{base}?score={s}"),
            None => base,
        }
    }

    /// The survey link a message on `channel` carries: a short link on SMS and WhatsApp
    /// when [`SurveySettings::short_links`] is on ([`crate::links`]), else the full one.
    async fn message_survey_url(
        &self,
        inv: &Invitation,
        order: &Order,
        channel: ChannelKind,
    ) -> Result<String, Error> {
        let url = self.survey_url(inv, None);
        if !(self.settings.short_links
            && matches!(channel, ChannelKind::Sms | ChannelKind::Whatsapp))
        {
            return Ok(url);
        }
        let token = url.rsplit('/').next().unwrap_or_default();
        let id = crate::links::ShortLinks::new(self.snapshots.clone())
            .shorten("survey", token, order.shop.clone(), self.clock.now())
            .await?;
        Ok(format!(
            "{}/s/{id}",
            self.settings.public_url.trim_end_matches('/')
        ))
    }

    /// The order's customer and the first of `channels` that may reach them for a survey;
    /// `Err(why)` when none can.
    async fn reach(
        &self,
        order: &Order,
        channels: &[ChannelKind],
    ) -> Result<Result<Reach, String>, Error> {
        let customer = match &order.customer_id {
            Some(id) => self.customers.customer(id).await?,
            None => None,
        };
        Ok(super::reach::choose_channel(
            self.consent.as_ref(),
            channels,
            Purpose::Feedback,
            order,
            customer.as_ref(),
        )
        .await?
        .map(|chosen| Reach {
            customer,
            channel: chosen.channel,
            to: chosen.address.clone(),
            chosen,
        }))
    }

    async fn note(&self, order: &OrderId, decision: Decision, reason: String) -> Result<(), Error> {
        let mut e = LedgerEntry::new(self.clock.now(), decision, reason);
        e.order_id = Some(order.clone());
        self.ledger.record(e).await
    }

    /// Keeps what the report breaks answers down by with the invitation, merging what this
    /// shipment update adds (updates may carry only part of it: an estimate, a status).
    async fn update_facts(&self, shipment: &Shipment, order: Option<&Order>) -> Result<(), Error> {
        let id = invitation_id(&shipment.order_id, self.settings.kind);
        let mut facts: SurveyFacts = match self.snapshots.snapshot(FACTS_SNAPSHOT, &id).await? {
            Some(s) => serde_json::from_value(s.data).unwrap_or_default(),
            None => SurveyFacts::default(),
        };
        let before = facts.clone();
        if let Some(o) = order
            && facts.products.is_empty()
        {
            facts.products = o.line_items.iter().map(|l| l.title.clone()).collect();
        }
        if let Some(o) = order
            && facts.order_number.is_none()
        {
            facts.order_number = Some(o.number.clone());
        }
        if shipment.carrier.is_some() {
            facts.carrier.clone_from(&shipment.carrier);
        }
        if shipment.estimated_delivery.is_some() && facts.estimated_delivery.is_none() {
            facts.estimated_delivery = shipment.estimated_delivery;
        }
        if Milestone::from_status(&shipment.status) == Some(Milestone::Delivered)
            && facts.delivered_at.is_none()
        {
            facts.delivered_at = shipment
                .events
                .iter()
                .rev()
                .find(|e| Milestone::from_status(&e.status) == Some(Milestone::Delivered))
                .map(|e| e.happened_at)
                .or(shipment.updated_at)
                .or_else(|| Some(self.clock.now()));
        }
        if facts == before {
            return Ok(());
        }
        self.snapshots
            .put_if_newer(&crate::store::Snapshot {
                kind: FACTS_SNAPSHOT.into(),
                shop: shipment.shop.clone(),
                id,
                version: self.clock.now(),
                data: serde_json::to_value(facts).map_err(|e| Error::decode("survey facts", e))?,
            })
            .await?;
        Ok(())
    }

    /// Schedules the invitation (and its reminder) for a shipment that shipped or arrived.
    pub async fn on_shipment(&self, shipment: &Shipment) -> Result<(), Error> {
        let now = self.clock.now();
        self.snapshots
            .put_if_newer(&crate::store::Snapshot {
                kind: "shipment".into(),
                shop: shipment.shop.clone(),
                id: shipment.id.0.clone(),
                version: shipment.updated_at.or(shipment.created_at).unwrap_or(now),
                data: serde_json::to_value(shipment).map_err(|e| Error::decode("shipment", e))?,
            })
            .await?;
        remember_shipment(self.snapshots.as_ref(), shipment, now).await?;
        self.update_facts(shipment, None).await?;
        let Some(m) = Milestone::for_shipment(shipment) else {
            return Ok(());
        };
        let (role, delay) = match m {
            Milestone::Delivered => ("after_delivery", days(self.settings.days_after_delivery)),
            Milestone::Shipped => ("after_shipping", days(self.settings.days_after_shipping)),
            _ => return Ok(()),
        };
        let base = shipment
            .events
            .iter()
            .rev()
            .find(|e| Milestone::from_status(&e.status) == Some(m))
            .map(|e| e.happened_at)
            .or(shipment.updated_at)
            .unwrap_or_else(|| self.clock.now());
        let due = base + delay;
        let Some(order) = self.orders.order(&shipment.order_id).await? else {
            return self
                .note(
                    &shipment.order_id,
                    Decision::Skipped,
                    "survey not scheduled: the order was not found".into(),
                )
                .await;
        };
        if order.cancelled {
            return self
                .note(
                    &order.id,
                    Decision::Skipped,
                    "survey not scheduled: the order is cancelled".into(),
                )
                .await;
        }
        let Reach {
            customer,
            channel,
            to,
            chosen,
        } = match self.reach(&order, &self.settings.channels).await? {
            Ok(r) => r,
            Err(why) => {
                return self
                    .note(
                        &order.id,
                        Decision::Skipped,
                        format!("survey not scheduled: {why}"),
                    )
                    .await;
            }
        };
        let locale = super::reach::locale(&order, customer.as_ref(), &self.settings.default_locale);
        let kind = self.settings.kind;
        let inv = Invitation {
            id: invitation_id(&order.id, kind),
            kind,
            shop: order.shop.clone(),
            order_id: order.id.clone(),
            customer_id: order.customer_id.clone(),
            channel,
            locale: locale.clone(),
            sent_at: due,
            closes_at: due + days(self.settings.open_days),
        };
        // The after-delivery invitation is saved now. The after-shipping fallback is only a
        // candidate until it is sent (the policy saves it then): a delivery reported before
        // the fallback is due gives the invitation its own dates, window and cool-down.
        // A saved invitation wins (an earlier delivery event, or a fallback already sent).
        if m == Milestone::Delivered {
            self.surveys.save_invitation(&inv).await?;
        }
        let pending = self.surveys.invitation(&inv.id).await?;
        let (inv, pending) = match pending {
            Some(saved) => (saved, false),
            None => (inv, true),
        };
        self.update_facts(shipment, Some(&order)).await?;
        let (first_name, zone) = greeting(&order, customer.as_ref());
        let mut invite = self
            .compose(
                &inv,
                &order,
                channel,
                &to,
                &first_name,
                zone.as_deref(),
                role,
                kind_message(kind),
            )
            .await?;
        if pending {
            invite.meta.insert(
                meta::PENDING_INVITATION.into(),
                serde_json::to_string(&inv).map_err(|e| Error::decode("invitation", e))?,
            );
        }
        let now = self.clock.now();
        self.outbox
            .enqueue(
                NewOutboxMessage::new(
                    format!("survey:{}:{role}", inv.id),
                    invite,
                    due,
                    chosen.explain(format!("survey {} scheduled {role}", inv.id)),
                ),
                now,
            )
            .await?;
        if let Some(r) = self.settings.reminder_after_days {
            // One reminder per variant, each counted from its own invitation; the policy sends
            // only the one whose invitation went out (at most one is ever sent).
            let reminder = self
                .reminder(
                    &inv,
                    &order,
                    channel,
                    &to,
                    &first_name,
                    zone.as_deref(),
                    role,
                )
                .await?;
            self.outbox
                .enqueue(
                    NewOutboxMessage::new(
                        format!("survey:{}:reminder:{role}", inv.id),
                        reminder,
                        due + days(r),
                        format!("one reminder for survey {}", inv.id),
                    ),
                    now,
                )
                .await?;
        }
        Ok(())
    }

    /// Re-sends a survey invitation that the provider reported undelivered (see
    /// [`DeliveryReports`](crate::flows::delivery::DeliveryReports)) on the next of the
    /// survey's channels not tried yet, with the same survey link. Once per failed message:
    /// its replacement names it in meta [`FALLBACK_OF`](crate::flows::tracking::meta::FALLBACK_OF),
    /// so a report that comes twice changes nothing. The replacement goes through the
    /// outbox like the invitation (consent, quiet hours and [`SurveyPolicy`] apply: an
    /// answered or closed survey is not re-sent). A reminder not sent yet follows it to the
    /// new channel, due when it was; the policy skips the reminders of invitations that were
    /// re-sent, so one reminder at most still goes out. Reminders, re-asks, clarifications and
    /// thanks are not themselves re-sent, and a message that is not a survey invitation is left alone.
    /// Every outcome is ledgered.
    pub async fn on_undelivered(&self, failed: &OutboxEntry) -> Result<(), Error> {
        use crate::flows::tracking::meta::FALLBACK_OF;
        let m = &failed.message.meta;
        let (Some(inv_id), Some(role)) = (m.get(meta::INVITATION), m.get(meta::ROLE)) else {
            return Ok(());
        };
        if !matches!(role.as_str(), "after_delivery" | "after_shipping") {
            return Ok(());
        }
        let order_id = failed
            .message
            .order_id
            .clone()
            .unwrap_or_else(|| OrderId::new(""));
        let inv = match self.surveys.invitation(inv_id).await? {
            Some(inv) => inv,
            None => match m
                .get(meta::PENDING_INVITATION)
                .and_then(|j| serde_json::from_str::<Invitation>(j).ok())
            {
                Some(inv) if inv.id == *inv_id => inv,
                _ => {
                    return self
                        .note(
                            &order_id,
                            Decision::Skipped,
                            format!("no fallback for survey {inv_id}: it no longer exists"),
                        )
                        .await;
                }
            },
        };
        if self.surveys.response(inv_id).await?.is_some() {
            return Ok(());
        }
        // The invitation's own key, then one key per channel it falls back to.
        let base = format!("survey:{inv_id}:{role}");
        let original = match self.outbox.outbox_by_key(&base).await? {
            Some(e) => Some(e.message.channel),
            None => None,
        };
        let mut left = Vec::new();
        for &ch in &self.settings.channels {
            if ch == failed.message.channel || Some(ch) == original {
                continue;
            }
            match self.outbox.outbox_by_key(&format!("{base}:{ch}")).await? {
                Some(e) if e.message.meta.get(FALLBACK_OF) == Some(&failed.key) => {
                    return Ok(());
                }
                Some(_) => {}
                None => left.push(ch),
            }
        }
        if left.is_empty() {
            return self
                .note(
                    &inv.order_id,
                    Decision::Skipped,
                    format!(
                        "survey {inv_id} could not be delivered by {} and no other channel is left to try",
                        failed.message.channel
                    ),
                )
                .await;
        }
        let Some(order) = self.orders.order(&inv.order_id).await? else {
            return self
                .note(
                    &inv.order_id,
                    Decision::Skipped,
                    format!(
                        "no fallback for survey {inv_id}: order {} was not found in the shop",
                        inv.order_id
                    ),
                )
                .await;
        };
        let Reach {
            customer,
            channel,
            to,
            chosen,
        } = match self.reach(&order, &left).await? {
            Ok(r) => r,
            Err(why) => {
                return self
                    .note(
                        &order.id,
                        Decision::Skipped,
                        format!("no fallback for survey {inv_id}: {why}"),
                    )
                    .await;
            }
        };
        let (first_name, zone) = greeting(&order, customer.as_ref());
        let mut invite = self
            .compose(
                &inv,
                &order,
                channel,
                &to,
                &first_name,
                zone.as_deref(),
                role,
                kind_message(inv.kind),
            )
            .await?;
        invite.meta.insert(FALLBACK_OF.into(), failed.key.clone());
        if let Some(pending) = m.get(meta::PENDING_INVITATION) {
            invite
                .meta
                .insert(meta::PENDING_INVITATION.into(), pending.clone());
        }
        let now = self.clock.now();
        self.outbox
            .enqueue(
                NewOutboxMessage::new(
                    format!("{base}:{channel}"),
                    invite,
                    now,
                    chosen.explain(format!(
                        "fallback: {} could not deliver survey {inv_id} ({})",
                        failed.message.channel, failed.key
                    )),
                ),
                now,
            )
            .await?;
        // A reminder not sent yet follows the invitation to its new channel, due when it
        // was: the policy sends only the reminder of the last invitation sent (see
        // `SurveyPolicy::superseded`), so at most one reminder still goes out.
        let reminder_key = format!("survey:{inv_id}:reminder:{role}");
        let waiting = match self.outbox.outbox_by_key(&reminder_key).await? {
            Some(r) if r.status == OutboxStatus::Pending => Some(r),
            _ => None,
        };
        if let Some(original) = waiting {
            let reminder = self
                .reminder(
                    &inv,
                    &order,
                    channel,
                    &to,
                    &first_name,
                    zone.as_deref(),
                    &format!("{role}:{channel}"),
                )
                .await?;
            self.outbox
                .enqueue(
                    NewOutboxMessage::new(
                        format!("{reminder_key}:{channel}"),
                        reminder,
                        original.due_at.max(now),
                        format!("the reminder for survey {inv_id} follows it to {channel}"),
                    ),
                    now,
                )
                .await?;
        }
        Ok(())
    }

    /// The reminder of the invitation message whose key ends in `reminds` (its role, then
    /// its channel once it is a fallback).
    #[allow(clippy::too_many_arguments)]
    async fn reminder(
        &self,
        inv: &Invitation,
        order: &Order,
        channel: ChannelKind,
        to: &str,
        first_name: &str,
        zone: Option<&str>,
        reminds: &str,
    ) -> Result<OutboundMessage, Error> {
        let mut m = self
            .compose(
                inv,
                order,
                channel,
                to,
                first_name,
                zone,
                "reminder",
                "survey-reminder",
            )
            .await?;
        m.meta.insert(meta::REMINDS.into(), reminds.into());
        Ok(m)
    }

    #[allow(clippy::too_many_arguments)]
    async fn compose(
        &self,
        inv: &Invitation,
        order: &Order,
        channel: ChannelKind,
        to: &str,
        first_name: &str,
        zone: Option<&str>,
        role: &str,
        message_id: &str,
    ) -> Result<OutboundMessage, Error> {
        let url = self.message_survey_url(inv, order, channel).await?;
        let mut args = BTreeMap::new();
        args.insert("first_name".to_owned(), first_name.to_owned());
        args.insert("order_number".to_owned(), order.number.clone());
        args.insert("survey_url".to_owned(), url.clone());
        let r = self.renderer.render(&RenderRequest {
            locale: inv.locale.clone(),
            channel,
            message_id: message_id.into(),
            args: args.clone(),
            tutorials: Vec::new(),
        })?;
        let mut m = OutboundMessage::new(channel, to, Purpose::Feedback, r.text);
        m.locale = r.locale.clone();
        m.subject = r.subject;
        m.html = r.html.map(|h| format!("{h}\n{}", self.scoreboard(inv)));
        m.shop = order.shop.clone();
        m.order_id = Some(order.id.clone());
        m.customer_id = order.customer_id.clone();
        m.meta.insert(meta::INVITATION.into(), inv.id.clone());
        m.meta.insert(meta::ROLE.into(), role.into());
        if let Some(z) = zone {
            m.meta.insert(tmeta::TIME_ZONE.into(), z.into());
        }
        if channel == ChannelKind::Email {
            m.meta.insert(
                "list_unsubscribe".into(),
                format!(
                    "{}/u/{}",
                    self.settings.public_url.trim_end_matches('/'),
                    url.rsplit('/').next().unwrap_or_default()
                ),
            );
        }
        if channel == ChannelKind::Whatsapp {
            let mut t = TemplateRef::new(
                format!("aftercare_survey_{}", inv.kind.as_str()),
                r.locale.replace('-', "_"),
            );
            t.body_params = vec![first_name.to_owned(), order.number.clone()];
            t.url_button_param = url.rsplit('/').next().map(str::to_owned);
            m.template = Some(t);
        }
        Ok(m)
    }

    /// One-click score links for email: each opens the page with the score chosen (a GET
    /// never records; the customer confirms with one tap). Follows the reading direction.
    pub fn scoreboard(&self, inv: &Invitation) -> String {
        let dir = if crate::html::is_rtl(&inv.locale) {
            "rtl"
        } else {
            "ltr"
        };
        let mut s = format!(
            "<table role=\"presentation\" dir=\"{dir}\" style=\"border-collapse:separate;border-spacing:4px\"><tr>"
        );
        for score in inv.kind.range() {
            s.push_str(&format!(
                "<td><a href=\"{}\" style=\"display:block;min-width:28px;padding:8px 0;text-align:center;border:1px solid #8a99ab;border-radius:6px;color:#0b57d0;text-decoration:none;font-weight:bold\">{score}</a></td>",
                escape(&self.survey_url(inv, Some(score)))
            ));
        }
        s.push_str("</tr></table>");
        s
    }

    /// Handles a reply that is not an opt-out keyword (check [`crate::optout`] first).
    /// Returns the score recorded, if any.
    pub async fn on_reply(&self, msg: &InboundMessage) -> Result<Option<u8>, Error> {
        let Some(last) = self
            .outbox
            .latest_sent_to(msg.channel, &msg.from, "survey:")
            .await?
        else {
            return Ok(None);
        };
        let Some(inv_id) = last.message.meta.get(meta::INVITATION).cloned() else {
            return Ok(None);
        };
        let Some(inv) = self.surveys.invitation(&inv_id).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if let Some(stored) = self.surveys.response(&inv.id).await? {
            // Already answered. The follow-up runs again: it is idempotent, and this is how a
            // follow-up that failed after the answer was stored (the shop's API was down)
            // gets its retry when the inbox retries the reply.
            if let Some(f) = &self.follow_up {
                f.act(&stored).await?;
            }
            return Ok(None);
        }
        if now > inv.closes_at {
            // Kept as a comment, never a score. Its time is the message's own, so a reply
            // processed twice is kept once.
            let text = msg.text.trim();
            if !text.is_empty() {
                self.surveys
                    .add_comment(&inv.id, text, msg.received_at)
                    .await?;
                if let Some(t) = self.follow_up.as_ref().and_then(|f| f.tickets.as_ref()) {
                    t.on_comment(&inv, text, msg.received_at).await?;
                }
            }
            self.note(
                &inv.order_id,
                Decision::Skipped,
                format!(
                    "reply to survey {} came after it closed; not scored, kept as a comment",
                    inv.id
                ),
            )
            .await?;
            return Ok(None);
        }
        let parsed = match msg
            .button_payload
            .as_deref()
            .and_then(|p| p.strip_prefix("score:"))
        {
            Some(n) => n
                .parse::<u8>()
                .ok()
                .filter(|s| inv.kind.range().contains(s))
                .map(|score| crate::reply::ParsedReply {
                    score,
                    comment: None,
                })
                .ok_or(crate::reply::ReplyError::NoScore),
            None => crate::reply::parse_score(&msg.text, inv.kind),
        };
        let order = OrderId::new(inv.order_id.0.clone());
        match parsed {
            Ok(p) => {
                let response = SurveyResponse {
                    invitation_id: inv.id.clone(),
                    kind: inv.kind,
                    order_id: order.clone(),
                    customer_id: inv.customer_id.clone(),
                    score: p.score,
                    comment: p.comment,
                    via: format!("{}_reply", msg.channel),
                    answered_at: now,
                };
                if self.surveys.record_response(&response).await? {
                    self.reply_with(&inv, &last, msg, "thanks", "survey-thanks")
                        .await?;
                    if let Some(f) = &self.follow_up {
                        f.act(&response).await?;
                    }
                }
                Ok(Some(response.score))
            }
            Err(crate::reply::ReplyError::SeveralNumbers) => {
                // Two numbers ("3 or 4", "1 0"): not scored, since either would be a guess.
                // The reply is kept as a comment (once, by its time), and the customer is
                // asked once per invitation for one number.
                let text = msg.text.trim();
                if !text.is_empty() {
                    self.surveys
                        .add_comment(&inv.id, text, msg.received_at)
                        .await?;
                }
                self.note(
                    &inv.order_id,
                    Decision::Skipped,
                    format!(
                        "reply to survey {} holds more than one number; not scored, kept as a comment, asked once for one number",
                        inv.id
                    ),
                )
                .await?;
                self.reply_with(&inv, &last, msg, "clarify", "survey-clarify")
                    .await?;
                Ok(None)
            }
            Err(_) => {
                self.reply_with(&inv, &last, msg, "reask", "survey-reask")
                    .await?;
                Ok(None)
            }
        }
    }

    async fn reply_with(
        &self,
        inv: &Invitation,
        last: &OutboxEntry,
        msg: &InboundMessage,
        role: &str,
        id: &str,
    ) -> Result<(), Error> {
        let mut args = BTreeMap::new();
        args.insert("survey_url".to_owned(), self.survey_url(inv, None));
        args.insert("score_min".to_owned(), inv.kind.range().start().to_string());
        args.insert("score_max".to_owned(), inv.kind.range().end().to_string());
        let r = self.renderer.render(&RenderRequest {
            locale: inv.locale.clone(),
            channel: msg.channel,
            message_id: id.into(),
            args,
            tutorials: Vec::new(),
        })?;
        let mut m = OutboundMessage::new(msg.channel, &msg.from, Purpose::Feedback, r.text);
        m.locale = r.locale;
        m.shop = last.message.shop.clone();
        m.order_id = last.message.order_id.clone();
        m.customer_id = last.message.customer_id.clone();
        m.meta.insert(meta::INVITATION.into(), inv.id.clone());
        m.meta.insert(meta::ROLE.into(), role.into());
        // The customer just wrote: WhatsApp's service window is open for 24 hours.
        m.meta.insert(
            "whatsapp_window_open_until".into(),
            (msg.received_at + chrono::Duration::hours(24)).to_rfc3339(),
        );
        let now = self.clock.now();
        self.outbox
            .enqueue(
                NewOutboxMessage::new(
                    format!("survey:{}:{role}", inv.id),
                    m,
                    now,
                    format!("{role} after a reply"),
                ),
                now,
            )
            .await?;
        Ok(())
    }
}

/// Who a survey message goes to, and how.
struct Reach {
    customer: Option<Customer>,
    channel: ChannelKind,
    to: String,
    chosen: super::reach::Chosen,
}

/// The first name a message greets with, and the time zone its quiet hours follow.
fn greeting(order: &Order, customer: Option<&Customer>) -> (String, Option<String>) {
    let first_name = customer
        .and_then(|c| c.first_name.clone())
        .unwrap_or_default();
    let zone = super::reach::time_zone(order, customer).map(|z| z.name().to_owned());
    (first_name, zone)
}

fn kind_message(kind: SurveyKind) -> &'static str {
    match kind {
        SurveyKind::Nps => "survey-nps-invite",
        SurveyKind::Csat => "survey-csat-invite",
        _ => "survey-ces-invite",
    }
}

#[async_trait]
impl EventHandler for FeedbackFlow {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        for e in events {
            match e {
                PlatformEvent::ShipmentCreated { shipment }
                | PlatformEvent::ShipmentUpdated { shipment } => {
                    self.on_shipment(&shipment).await?;
                }
                PlatformEvent::OrderCreated { order }
                | PlatformEvent::OrderPaid { order }
                | PlatformEvent::OrderUpdated { order } => {
                    remember_order(self.snapshots.as_ref(), &order, self.clock.now()).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The dispatch-time rules of surveys (see the module docs).
pub struct SurveyPolicy {
    outbox: Arc<dyn Outbox>,
    surveys: Arc<dyn SurveyStore>,
    snapshots: Arc<dyn SnapshotStore>,
    settings: SurveySettings,
}

impl std::fmt::Debug for SurveyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SurveyPolicy")
    }
}

impl SurveyPolicy {
    /// The policy over a store.
    pub fn new<S: FeedbackStore + 'static>(store: Arc<S>, settings: SurveySettings) -> Self {
        Self {
            outbox: store.clone(),
            surveys: store.clone(),
            snapshots: store,
            settings,
        }
    }

    async fn sent(&self, key: &str) -> Result<bool, Error> {
        Ok(
            matches!(self.outbox.outbox_by_key(key).await?, Some(e) if e.status == OutboxStatus::Sent),
        )
    }

    /// The channel an invitation message (key `invitation`, `variant` its role, with its
    /// channel once it is itself a fallback) was re-sent by after it was reported
    /// undelivered, if it was.
    async fn superseded(
        &self,
        invitation: &str,
        variant: &str,
    ) -> Result<Option<ChannelKind>, Error> {
        use crate::flows::tracking::meta::FALLBACK_OF;
        let role = variant.split(':').next().unwrap_or(variant);
        let base = invitation
            .strip_suffix(variant)
            .map(|prefix| format!("{prefix}{role}"))
            .unwrap_or_else(|| invitation.to_owned());
        for &ch in &self.settings.channels {
            if let Some(e) = self.outbox.outbox_by_key(&format!("{base}:{ch}")).await?
                && e.message.meta.get(FALLBACK_OF).map(String::as_str) == Some(invitation)
            {
                return Ok(Some(ch));
            }
        }
        Ok(None)
    }

    async fn shipment_state(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        // Shipments are snapshotted by the tracking flow under their own ids; the order's
        // snapshot is not needed: scan the few shipments named in the ledger-free way, by
        // reading the order's shipment snapshot index.
        let Some(s) = self
            .snapshots
            .snapshot("order-shipments", order.as_str())
            .await?
        else {
            return Ok(Vec::new());
        };
        let ids: Vec<String> = serde_json::from_value(s.data).unwrap_or_default();
        let mut out = Vec::new();
        for id in ids {
            if let Some(snap) = self.snapshots.snapshot("shipment", &id).await?
                && let Ok(sh) = serde_json::from_value::<Shipment>(snap.data)
            {
                out.push(sh);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl SendPolicy for SurveyPolicy {
    async fn check(&self, entry: &OutboxEntry, now: DateTime<Utc>) -> Result<Verdict, Error> {
        let m = &entry.message.meta;
        let (Some(inv_id), Some(role)) = (m.get(meta::INVITATION), m.get(meta::ROLE)) else {
            return Ok(Verdict::Send);
        };
        if matches!(role.as_str(), "reask" | "clarify" | "thanks") {
            return Ok(Verdict::Send);
        }
        let (inv, pending) = match self.surveys.invitation(inv_id).await? {
            Some(inv) => (inv, false),
            None => match m
                .get(meta::PENDING_INVITATION)
                .and_then(|j| serde_json::from_str::<Invitation>(j).ok())
            {
                Some(inv) if inv.id == *inv_id && role == "after_shipping" => (inv, true),
                _ => {
                    return Ok(Verdict::Skip {
                        reason: format!("survey {inv_id} no longer exists (erased?)"),
                    });
                }
            },
        };
        if self.surveys.response(inv_id).await?.is_some() {
            return Ok(Verdict::Skip {
                reason: format!("survey {inv_id} is already answered"),
            });
        }
        let delivery_key = format!("survey:{inv_id}:after_delivery");
        let shipping_key = format!("survey:{inv_id}:after_shipping");
        match role.as_str() {
            "reminder" => {
                let sent = match m.get(meta::REMINDS).map(String::as_str) {
                    Some(variant) => {
                        let invitation = format!("survey:{inv_id}:{variant}");
                        if let Some(by) = self.superseded(&invitation, variant).await? {
                            return Ok(Verdict::Skip {
                                reason: format!(
                                    "survey {inv_id} could not be delivered there and was sent again by {by}: the reminder goes with it"
                                ),
                            });
                        }
                        self.sent(&invitation).await?
                    }
                    None => self.sent(&delivery_key).await? || self.sent(&shipping_key).await?,
                };
                if !sent {
                    return Ok(Verdict::Skip {
                        reason: format!(
                            "no invitation for survey {inv_id} was sent, so no reminder"
                        ),
                    });
                }
                return Ok(Verdict::Send);
            }
            "after_shipping" => {
                if self.outbox.outbox_by_key(&delivery_key).await?.is_some() {
                    return Ok(Verdict::Skip {
                        reason:
                            "a delivery was reported: the after-delivery invitation is used instead"
                                .into(),
                    });
                }
            }
            _ => {
                if self.sent(&shipping_key).await? {
                    return Ok(Verdict::Skip {
                        reason: format!("survey {inv_id} was already sent after shipping"),
                    });
                }
            }
        }
        if now > inv.closes_at {
            return Ok(Verdict::Skip {
                reason: format!("survey {inv_id} closed before it could be sent"),
            });
        }
        // An open shipment problem: wait a day and look again.
        for s in self.shipment_state(&inv.order_id).await? {
            if matches!(
                Milestone::from_status(&s.status),
                Some(Milestone::Exception | Milestone::AttemptedDelivery | Milestone::Delayed)
            ) {
                return Ok(Verdict::Defer {
                    until: now + chrono::Duration::days(1),
                    reason: format!(
                        "shipment {} has an open problem ({}); the survey waits",
                        s.id,
                        s.status.as_str()
                    ),
                });
            }
        }
        if let Some(c) = &inv.customer_id {
            let since = now
                - days(
                    self.settings
                        .cooldown_days
                        .max(self.settings.complaint_days),
                );
            for other in self.surveys.invitations_for_customer(c, since).await? {
                if other.id == inv.id {
                    continue;
                }
                if let Some(r) = self.surveys.response(&other.id).await?
                    && other.kind.is_detractor(r.score)
                    && r.answered_at > now - days(self.settings.complaint_days)
                {
                    return Ok(Verdict::Skip {
                        reason: format!(
                            "an earlier complaint (score {} on {}) is open",
                            r.score,
                            r.answered_at.date_naive()
                        ),
                    });
                }
                let sent_other = self
                    .sent(&format!("survey:{}:after_delivery", other.id))
                    .await?
                    || self
                        .sent(&format!("survey:{}:after_shipping", other.id))
                        .await?;
                if sent_other && other.sent_at > now - days(self.settings.cooldown_days) {
                    return Ok(Verdict::Skip {
                        reason: format!(
                            "the customer was surveyed on {} ({}-day cool-down)",
                            other.sent_at.date_naive(),
                            self.settings.cooldown_days
                        ),
                    });
                }
            }
        }
        if pending {
            // The fallback goes out: from now on it is the invitation.
            self.surveys.save_invitation(&inv).await?;
        }
        Ok(Verdict::Send)
    }
}

/// Where follow-ups go.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FollowUpSettings {
    /// Support's email address for detractor alerts.
    pub support_email: Option<String>,
    /// A helpdesk webhook URL for detractor alerts (signed with Standard Webhooks).
    pub webhook_url: Option<String>,
    /// Tag for detractors' orders and customers.
    pub detractor_tag: Option<String>,
    /// A review page for promoters; `None` for no review request.
    pub review_url: Option<String>,
    /// The locale of support's alerts.
    pub support_locale: Option<String>,
}

/// Acts on answers: alerts and tags for detractors, review requests for promoters.
pub struct FollowUp {
    outbox: Arc<dyn Outbox>,
    ledger: Arc<dyn Ledger>,
    consent: Arc<dyn ConsentStore>,
    surveys: Arc<dyn SurveyStore>,
    snapshots: Arc<dyn SnapshotStore>,
    annotator: Arc<dyn OrderAnnotator>,
    renderer: Arc<dyn Renderer>,
    clock: Arc<dyn Clock>,
    settings: FollowUpSettings,
    customers: Option<Arc<dyn CustomerDirectory>>,
    tickets: Option<Arc<super::tickets::TicketFlow>>,
}

impl std::fmt::Debug for FollowUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FollowUp")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl FollowUp {
    /// Follow-ups through a store, writing back to the shop with `annotator`.
    pub fn new<S: FeedbackStore + 'static>(
        store: Arc<S>,
        annotator: Arc<dyn OrderAnnotator>,
        renderer: Arc<dyn Renderer>,
        clock: Arc<dyn Clock>,
        settings: FollowUpSettings,
    ) -> Self {
        Self {
            outbox: store.clone(),
            ledger: store.clone(),
            consent: store.clone(),
            surveys: store.clone(),
            snapshots: store,
            annotator,
            renderer,
            clock,
            settings,
            customers: None,
            tickets: None,
        }
    }

    /// Opens a support-desk ticket for each detractor (one per order; see
    /// [`TicketFlow`](super::tickets::TicketFlow)), and notes later replies on it.
    pub fn tickets(mut self, tickets: Arc<super::tickets::TicketFlow>) -> Self {
        self.tickets = Some(tickets);
        self
    }

    /// Reads the platform's consent from `customers` when the consent store has no record
    /// for a review request (the consent store, fed by replies and opt-outs, wins).
    pub fn customers(mut self, customers: Arc<dyn CustomerDirectory>) -> Self {
        self.customers = Some(customers);
        self
    }

    async fn note(
        &self,
        r: &SurveyResponse,
        decision: Decision,
        reason: String,
    ) -> Result<(), Error> {
        let mut e = LedgerEntry::new(self.clock.now(), decision, reason);
        e.order_id = Some(r.order_id.clone());
        e.customer_id = r.customer_id.clone();
        e.key = Some(format!("followup:{}", r.invitation_id));
        self.ledger.record(e).await
    }

    /// The order's number for messages (`#1001`), from the survey's facts; else its id.
    async fn order_number(&self, r: &SurveyResponse) -> Result<String, Error> {
        Ok(self
            .snapshots
            .snapshot(FACTS_SNAPSHOT, &r.invitation_id)
            .await?
            .and_then(|s| serde_json::from_value::<SurveyFacts>(s.data).ok())
            .and_then(|f| f.order_number)
            .unwrap_or_else(|| r.order_id.0.clone()))
    }

    /// Acts on a new answer. Idempotent: keys and tags make a second call change nothing.
    pub async fn act(&self, r: &SurveyResponse) -> Result<(), Error> {
        let now = self.clock.now();
        let inv = self.surveys.invitation(&r.invitation_id).await?;
        let shop = inv.as_ref().and_then(|i| i.shop.clone());
        if r.kind.is_detractor(r.score) {
            let locale = self
                .settings
                .support_locale
                .clone()
                .unwrap_or_else(|| "en".into());
            let mut args = BTreeMap::new();
            let number = self.order_number(r).await?;
            args.insert("order_number".to_owned(), number.clone());
            args.insert("score".to_owned(), r.score.to_string());
            args.insert("kind".to_owned(), r.kind.as_str().to_uppercase());
            args.insert("comment".to_owned(), r.comment.clone().unwrap_or_default());
            if let Some(to) = &self.settings.support_email {
                let rendered = self.renderer.render(&RenderRequest {
                    locale: locale.clone(),
                    channel: ChannelKind::Email,
                    message_id: "support-detractor-alert".into(),
                    args: args.clone(),
                    tutorials: Vec::new(),
                })?;
                let mut m = OutboundMessage::new(
                    ChannelKind::Email,
                    to,
                    Purpose::Transactional,
                    rendered.text,
                );
                m.subject = rendered.subject;
                m.html = rendered.html;
                m.locale = rendered.locale;
                m.shop = shop.clone();
                m.order_id = Some(r.order_id.clone());
                m.customer_id = r.customer_id.clone();
                self.outbox
                    .enqueue(
                        NewOutboxMessage::new(
                            format!("followup:{}:support-email", r.invitation_id),
                            m,
                            now,
                            format!(
                                "detractor ({} {}) alert to support",
                                r.kind.as_str(),
                                r.score
                            ),
                        ),
                        now,
                    )
                    .await?;
            }
            if let Some(url) = &self.settings.webhook_url {
                let payload = serde_json::json!({
                    "type": "survey.detractor",
                    "timestamp": now.to_rfc3339(),
                    "data": {
                        "invitation_id": r.invitation_id,
                        "order_id": r.order_id,
                        "order_number": number,
                        "customer_id": r.customer_id,
                        "survey": r.kind.as_str(),
                        "score": r.score,
                        "comment": r.comment,
                        "answered_at": r.answered_at.to_rfc3339(),
                        "via": r.via,
                    }
                });
                let mut m = OutboundMessage::new(
                    ChannelKind::Webhook,
                    url,
                    Purpose::Transactional,
                    payload.to_string(),
                );
                m.shop = shop.clone();
                m.order_id = Some(r.order_id.clone());
                m.customer_id = r.customer_id.clone();
                self.outbox
                    .enqueue(
                        NewOutboxMessage::new(
                            format!("followup:{}:webhook", r.invitation_id),
                            m,
                            now,
                            "detractor alert to the helpdesk webhook",
                        ),
                        now,
                    )
                    .await?;
            }
            if let Some(t) = &self.tickets {
                t.on_detractor(r).await?;
            }
            let key = format!("followup:{}", r.invitation_id);
            let tagged = self
                .ledger
                .ledger_for_key(&key)
                .await?
                .iter()
                .any(|e| e.decision == Decision::Sent && e.reason.starts_with("tagged"));
            if let Some(tag) = self.settings.detractor_tag.as_ref().filter(|_| !tagged) {
                let tags = vec![tag.clone()];
                self.annotator.add_order_tags(&r.order_id, &tags).await?;
                if let Some(c) = &r.customer_id {
                    self.annotator.add_customer_tags(c, &tags).await?;
                }
                self.note(
                    r,
                    Decision::Sent,
                    format!(
                        "tagged the order{} `{tag}` in the shop",
                        if r.customer_id.is_some() {
                            " and the customer"
                        } else {
                            ""
                        }
                    ),
                )
                .await?;
            }
        } else if is_promoter(r.kind, r.score)
            && let Some(review) = &self.settings.review_url
            && let Some(inv) = &inv
        {
            self.review_request(r, inv, review).await?;
        }
        Ok(())
    }

    async fn review_request(
        &self,
        r: &SurveyResponse,
        inv: &Invitation,
        review: &str,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let Some(last) = self
            .outbox
            .outbox_by_key(&format!("survey:{}:after_delivery", inv.id))
            .await?
            .or(self
                .outbox
                .outbox_by_key(&format!("survey:{}:after_shipping", inv.id))
                .await?)
        else {
            return Ok(());
        };
        let to = last.message.to.clone();
        let stored = self
            .consent
            .consent(inv.channel, &to, Purpose::Marketing)
            .await?
            .map(|c| c.state);
        let allowed = match (stored, &self.customers, &r.customer_id) {
            (Some(state), _, _) => Some(state),
            (None, Some(dir), Some(id)) => dir
                .customer(id)
                .await?
                .map(|c| c.consent(Purpose::Marketing, inv.channel)),
            _ => None,
        };
        if allowed != Some(crate::model::ConsentState::Granted) {
            return self
                .note(
                    r,
                    Decision::Skipped,
                    "promoter review request not sent: no marketing consent on record".into(),
                )
                .await;
        }
        let mut args = BTreeMap::new();
        args.insert("review_url".to_owned(), review.to_owned());
        args.insert("order_number".to_owned(), self.order_number(r).await?);
        let rendered = self.renderer.render(&RenderRequest {
            locale: inv.locale.clone(),
            channel: inv.channel,
            message_id: "review-request".into(),
            args,
            tutorials: Vec::new(),
        })?;
        let mut m = OutboundMessage::new(inv.channel, to, Purpose::Marketing, rendered.text);
        m.subject = rendered.subject;
        m.html = rendered.html;
        m.locale = rendered.locale;
        m.shop = inv.shop.clone();
        m.order_id = Some(r.order_id.clone());
        m.customer_id = r.customer_id.clone();
        self.outbox
            .enqueue(
                NewOutboxMessage::new(
                    format!("followup:{}:review", r.invitation_id),
                    m,
                    now,
                    "promoter review request",
                ),
                now,
            )
            .await?;
        Ok(())
    }
}

/// Whether a score is a promoter's: NPS 9-10, CSAT 5, CES 6-7.
pub fn is_promoter(kind: SurveyKind, score: u8) -> bool {
    match kind {
        SurveyKind::Nps => score >= 9,
        SurveyKind::Csat => score == 5,
        _ => score >= 6,
    }
}

/// What happens when a survey answer arrives (the survey page calls it; the flow decides).
///
/// [`AnswerQueue`] makes it durable: the answer's
/// follow-up is stored in the inbox *before* the answer is recorded and runs from there, with
/// the inbox's retries and dead letters. [`FollowUp`] as a
/// hook acts at once, after recording: simpler, but a follow-up that fails (the shop's API
/// down while tagging) is only logged.
#[async_trait]
pub trait AnswerHook: Send + Sync {
    /// Runs before an answer is recorded. An error stops the answer from being recorded:
    /// the page answers 503 and the customer can send it again.
    async fn before_record(
        &self,
        _response: &SurveyResponse,
        _invitation: &Invitation,
    ) -> Result<(), crate::Error> {
        Ok(())
    }

    /// A first, final answer was recorded.
    async fn answered(&self, response: &SurveyResponse);
}

/// As a survey page hook, acts at once after an answer is recorded; a failure is logged,
/// not retried. [`AnswerQueue`] is the durable alternative.
#[async_trait]
impl AnswerHook for FollowUp {
    async fn answered(&self, response: &SurveyResponse) {
        if let Err(e) = self.act(response).await {
            tracing::error!(error = %e, invitation = %response.invitation_id, "follow-up failed");
        }
    }
}

/// Runs the follow-up of answers queued by [`AnswerQueue`] (inbox entries of source
/// [`ANSWER_SOURCE`]); entries of other sources are not its business. The recorded answer
/// is the truth (the first one wins), so the queued entry carries only the invitation's id.
/// An answer not recorded yet is retried (the page queues before it records); a failing
/// follow-up is retried with the inbox's backoff and dead-lettered in the end.
#[async_trait]
impl EventHandler for FollowUp {
    async fn handle(
        &self,
        entry: &InboxEntry,
        _events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        if entry.source != ANSWER_SOURCE {
            return Ok(());
        }
        let queued: QueuedAnswer = serde_json::from_slice(&entry.body).map_err(|e| {
            HandlerError::Poison(format!("a queued survey answer is not valid JSON: {e}"))
        })?;
        let Some(recorded) = self.surveys.response(&queued.invitation_id).await? else {
            return Err(HandlerError::Retry(format!(
                "no answer is recorded for invitation {} yet",
                queued.invitation_id
            )));
        };
        self.act(&recorded).await?;
        Ok(())
    }
}

/// The inbox source name under which [`AnswerQueue`] stores answers waiting for their
/// follow-up. Register [`AnswerSource`] under it on the inbox processor.
pub const ANSWER_SOURCE: &str = "survey-answer";

/// What [`AnswerQueue`] stores: only the invitation's id (no personal data in the inbox).
#[derive(Serialize, Deserialize)]
struct QueuedAnswer {
    invitation_id: String,
}

/// Makes the survey page's follow-up durable: before an answer is recorded, an inbox entry
/// (source [`ANSWER_SOURCE`], de-duplicated per invitation) is stored; the inbox processor
/// then runs [`FollowUp`] on it, with retries, backoff and dead letters like any webhook, and
/// it survives a crash. Wire it with `SurveyPage::on_answer` (feature `axum`),
/// register [`AnswerSource`] on the processor and put the [`FollowUp`] in its handler chain.
///
/// ```
/// # use std::sync::Arc;
/// # use aftercare::flows::feedback::{ANSWER_SOURCE, AnswerQueue, AnswerSource};
/// # fn wire(store: Arc<dyn aftercare::store::Inbox>, clock: Arc<dyn aftercare::clock::Clock>,
/// #         processor: aftercare::inbox::InboxProcessor) -> aftercare::inbox::InboxProcessor {
/// let queue = AnswerQueue::new(store, clock); // → SurveyPage::on_answer(Arc::new(queue))
/// processor.source(ANSWER_SOURCE, Arc::new(AnswerSource))
/// # }
/// ```
pub struct AnswerQueue {
    inbox: Arc<dyn Inbox>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AnswerQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerQueue").finish_non_exhaustive()
    }
}

impl AnswerQueue {
    /// A queue into `inbox`.
    pub fn new(inbox: Arc<dyn Inbox>, clock: Arc<dyn Clock>) -> Self {
        Self { inbox, clock }
    }

    /// Stores the follow-up of `invitation`'s answer in the inbox (once per invitation).
    pub async fn queue(&self, invitation: &Invitation) -> Result<(), Error> {
        let body = serde_json::to_vec(&QueuedAnswer {
            invitation_id: invitation.id.clone(),
        })
        .map_err(|e| Error::decode("queued survey answer", e))?;
        let mut v = VerifiedWebhook::new(format!("answer:{}", invitation.id));
        v.topic = Some("survey/answered".into());
        v.shop = invitation.shop.as_ref().map(|s| s.as_str().to_owned());
        self.inbox
            .insert(NewInboxEntry::new(ANSWER_SOURCE, v, body, self.clock.now()))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl AnswerHook for AnswerQueue {
    async fn before_record(
        &self,
        _response: &SurveyResponse,
        invitation: &Invitation,
    ) -> Result<(), Error> {
        self.queue(invitation).await
    }

    async fn answered(&self, _response: &SurveyResponse) {}
}

/// The inbox source of [`AnswerQueue`]'s entries. They are written by this process, never
/// received over HTTP: `verify` refuses every request, `decode` yields no platform events
/// (the [`FollowUp`] handler reads the entry itself).
#[derive(Clone, Copy, Debug, Default)]
pub struct AnswerSource;

impl WebhookSource for AnswerSource {
    fn verify(&self, _request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        Err(Rejection::Mismatch)
    }

    fn decode(&self, _entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        Ok(Vec::new())
    }
}

/// The snapshot kind listing a customer's orders with their creation times, for the
/// repeat-purchase comparison of reports.
pub const CUSTOMER_ORDERS_SNAPSHOT: &str = "customer-orders";

/// Remembers that a customer placed an order (ids and times only, no personal data).
pub async fn remember_order(
    snapshots: &dyn SnapshotStore,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(customer) = &order.customer_id else {
        return Ok(());
    };
    let mut list: Vec<(String, DateTime<Utc>)> = match snapshots
        .snapshot(CUSTOMER_ORDERS_SNAPSHOT, customer.as_str())
        .await?
    {
        Some(s) => serde_json::from_value(s.data).unwrap_or_default(),
        None => Vec::new(),
    };
    if list.iter().any(|(id, _)| *id == order.id.0) {
        return Ok(());
    }
    list.push((order.id.0.clone(), order.created_at.unwrap_or(now)));
    snapshots
        .put_if_newer(&crate::store::Snapshot {
            kind: CUSTOMER_ORDERS_SNAPSHOT.into(),
            shop: order.shop.clone(),
            id: customer.0.clone(),
            version: now,
            data: serde_json::to_value(list).map_err(|e| Error::decode("customer orders", e))?,
        })
        .await?;
    Ok(())
}

/// Keeps the list of an order's shipments so surveys can look at their state.
pub async fn remember_shipment(
    snapshots: &dyn SnapshotStore,
    shipment: &Shipment,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut ids: Vec<String> = match snapshots
        .snapshot("order-shipments", shipment.order_id.as_str())
        .await?
    {
        Some(s) => serde_json::from_value(s.data).unwrap_or_default(),
        None => Vec::new(),
    };
    if ids.contains(&shipment.id.0) {
        return Ok(());
    }
    ids.push(shipment.id.0.clone());
    snapshots
        .put_if_newer(&crate::store::Snapshot {
            kind: "order-shipments".into(),
            shop: shipment.shop.clone(),
            id: shipment.order_id.0.clone(),
            version: now,
            data: serde_json::to_value(ids).map_err(|e| Error::decode("shipment ids", e))?,
        })
        .await?;
    Ok(())
}
