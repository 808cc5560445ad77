//! Scheduling and composing invitations and reminders, and resending undelivered ones.

use super::*;
use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::Error;
use crate::clock::Clock;
use crate::flows::tracking::{Milestone, RenderRequest, Renderer, meta as tmeta};
use crate::html::escape;
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{
    ChannelKind, Customer, Invitation, Order, OrderId, OutboundMessage, PlatformEvent, Purpose,
    Shipment, SurveyKind, TemplateRef,
};
use crate::platform::{CustomerDirectory, OrderSource};
use crate::store::{
    Decision, InboxEntry, LedgerEntry, NewOutboxMessage, OutboxEntry, OutboxStatus,
};
use crate::token::TokenSigner;

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
        let customer =
            crate::platform::known::customer_of_order(self.customers.as_ref(), order).await?;
        Ok(crate::flows::reach::choose_channel(
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

    pub(super) async fn note(
        &self,
        order: &OrderId,
        decision: Decision,
        reason: String,
    ) -> Result<(), Error> {
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
            .put_if_newer_owned(crate::store::Snapshot {
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
            .put_if_newer_owned(crate::store::Snapshot {
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
        let locale =
            crate::flows::reach::locale(&order, customer.as_ref(), &self.settings.default_locale);
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
            items: Vec::new(),
        })?;
        let mut m = OutboundMessage::new(channel, to, Purpose::Feedback, r.text);
        m.locale = r.locale.clone();
        m.subject = r.subject;
        // The score buttons under the question, before the footer (why, how to stop).
        m.html = r.html.map(|h| {
            let board = self.scoreboard(inv);
            match h.split_once(crate::l10n::EMAIL_FOOTER_MARK) {
                Some((body, footer)) => {
                    format!("{body}{board}\n{}{footer}", crate::l10n::EMAIL_FOOTER_MARK)
                }
                None => format!("{h}\n{board}"),
            }
        });
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
            t.body_params = vec![
                crate::flows::tracking::template_param(
                    self.renderer.as_ref(),
                    &r.locale,
                    first_name,
                    "whatsapp-no-name",
                ),
                order.number.clone(),
            ];
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
}

/// Who a survey message goes to, and how.
struct Reach {
    customer: Option<Customer>,
    channel: ChannelKind,
    to: String,
    chosen: crate::flows::reach::Chosen,
}

/// The first name a message greets with, and the time zone its quiet hours follow.
fn greeting(order: &Order, customer: Option<&Customer>) -> (String, Option<String>) {
    let first_name = customer
        .and_then(|c| c.first_name.clone())
        .unwrap_or_default();
    let zone = crate::flows::reach::time_zone(order, customer).map(|z| z.name().to_owned());
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
