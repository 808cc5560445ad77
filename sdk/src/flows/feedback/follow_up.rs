//! Acting on answers: alerts, tags and tickets for detractors, review requests for promoters.

use super::*;
use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::clock::Clock;
use crate::flows::tracking::{RenderRequest, Renderer};
use crate::model::{ChannelKind, Invitation, OutboundMessage, Purpose, SurveyKind, SurveyResponse};
use crate::platform::{CustomerDirectory, OrderAnnotator};
use crate::store::{
    ConsentStore, Decision, Ledger, LedgerEntry, NewOutboxMessage, Outbox, SnapshotStore,
    SurveyStore,
};

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
    pub(super) outbox: Arc<dyn Outbox>,
    pub(super) ledger: Arc<dyn Ledger>,
    pub(super) consent: Arc<dyn ConsentStore>,
    pub(super) surveys: Arc<dyn SurveyStore>,
    pub(super) snapshots: Arc<dyn SnapshotStore>,
    pub(super) annotator: Arc<dyn OrderAnnotator>,
    pub(super) renderer: Arc<dyn Renderer>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) settings: FollowUpSettings,
    pub(super) customers: Option<Arc<dyn CustomerDirectory>>,
    pub(super) tickets: Option<Arc<crate::flows::tickets::TicketFlow>>,
    pub(super) recovery: Option<Arc<crate::flows::recovery::RecoveryFlow>>,
    pub(super) retention: Option<crate::retention::RetentionRecorder>,
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
            recovery: None,
            retention: None,
        }
    }

    /// Acts on detractors' answers and on complaint replies (a survey reply that reads as
    /// one, [`is_late_complaint`](crate::flows::tickets::is_late_complaint)) with service
    /// recovery (see [`RecoveryFlow`](crate::flows::recovery::RecoveryFlow); once per order
    /// and action).
    pub fn recovery(mut self, recovery: Arc<crate::flows::recovery::RecoveryFlow>) -> Self {
        self.recovery = Some(recovery);
        self
    }

    /// Records each answer (NPS group, CSAT, CES) on its order for the retention report.
    pub fn retention(mut self, recorder: crate::retention::RetentionRecorder) -> Self {
        self.retention = Some(recorder);
        self
    }

    /// Opens a support-desk ticket for each detractor (one per order; see
    /// [`TicketFlow`](crate::flows::tickets::TicketFlow)), and notes later replies on it.
    pub fn tickets(mut self, tickets: Arc<crate::flows::tickets::TicketFlow>) -> Self {
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
        if let Some(rec) = &self.retention {
            rec.record_answer(shop.as_ref(), r).await?;
        }
        if let Some(recovery) = &self.recovery {
            recovery.on_answer(shop.as_ref(), r).await?;
        }
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
                    items: Vec::new(),
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
            items: Vec::new(),
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
