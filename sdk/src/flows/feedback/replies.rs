//! Survey replies by message: scores, re-asks, clarifications, late comments.

use super::*;
use std::collections::BTreeMap;

use crate::Error;
use crate::flows::tracking::RenderRequest;
use crate::model::{InboundMessage, Invitation, OrderId, OutboundMessage, Purpose, SurveyResponse};
use crate::store::{Decision, NewOutboxMessage, OutboxEntry};

impl FeedbackFlow {
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
            // A later message (not this one again, retried by the inbox) is a second
            // answer: kept as a comment and added to the order's ticket, never a new one
            // (a ticket is opened only for a late-delivery complaint).
            let text = msg.text.trim();
            if msg.received_at > stored.answered_at && !text.is_empty() {
                self.surveys
                    .add_comment(&inv.id, text, msg.received_at)
                    .await?;
                self.complaint_to_recovery(&inv, msg).await?;
                if let Some(t) = self.tickets()
                    && t.on_late_complaint(&inv, msg).await?.is_none()
                {
                    t.on_comment(&inv, text, msg.received_at).await?;
                }
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
                self.complaint_to_recovery(&inv, msg).await?;
                if let Some(t) = self.tickets()
                    && t.on_late_complaint(&inv, msg).await?.is_none()
                {
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
                // A complaint in the comment ("8, but it came a week late") is a recovery
                // signal whatever the score (a detractor's was one already: once per order).
                if response.comment.is_some() {
                    self.complaint_to_recovery(&inv, msg).await?;
                }
                // A good score with a late-delivery complaint in its comment ("8, but it
                // came a week late"): the detractor path does not open a ticket, this does.
                if !inv.kind.is_detractor(response.score)
                    && response.comment.is_some()
                    && let Some(t) = self.tickets()
                {
                    t.on_late_complaint(&inv, msg).await?;
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
                // A late-delivery complaint instead of a score: service recovery (an
                // apology, once per order), a ticket for support, the text kept as a
                // comment, and no "please answer with a number".
                let recovered = self.complaint_to_recovery(&inv, msg).await?;
                let ticket = match self.tickets() {
                    Some(t) => t.on_late_complaint(&inv, msg).await?.is_some(),
                    None => false,
                };
                if recovered || ticket {
                    let to = if ticket {
                        "sent to the helpdesk"
                    } else {
                        "sent to service recovery"
                    };
                    self.surveys
                        .add_comment(&inv.id, msg.text.trim(), msg.received_at)
                        .await?;
                    self.note(
                        &inv.order_id,
                        Decision::Skipped,
                        format!(
                            "reply to survey {} is a late-delivery complaint; not scored, kept as a comment, {to}",
                            inv.id
                        ),
                    )
                    .await?;
                    return Ok(None);
                }
                // Any other text about an order that has a ticket goes on that ticket too.
                if let Some(t) = self.tickets()
                    && !msg.text.trim().is_empty()
                {
                    t.on_comment(&inv, msg.text.trim(), msg.received_at).await?;
                }
                self.reply_with(&inv, &last, msg, "reask", "survey-reask")
                    .await?;
                Ok(None)
            }
        }
    }

    /// A reply that reads as a complaint ([`is_late_complaint`]) reaches service recovery
    /// (with [`FollowUp::recovery`]): once per order and action, however often the
    /// customer writes. Whether recovery took it as its signal.
    ///
    /// [`is_late_complaint`]: crate::flows::tickets::is_late_complaint
    async fn complaint_to_recovery(
        &self,
        inv: &Invitation,
        msg: &InboundMessage,
    ) -> Result<bool, Error> {
        let Some(r) = self.follow_up.as_ref().and_then(|f| f.recovery.as_ref()) else {
            return Ok(false);
        };
        if !crate::flows::tickets::is_late_complaint(&msg.text) {
            return Ok(false);
        }
        Ok(r.on_complaint(inv.shop.as_ref(), &inv.order_id)
            .await?
            .is_some())
    }

    fn tickets(&self) -> Option<&Arc<crate::flows::tickets::TicketFlow>> {
        self.follow_up.as_ref().and_then(|f| f.tickets.as_ref())
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
            items: Vec::new(),
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
