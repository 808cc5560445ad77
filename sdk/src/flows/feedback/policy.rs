//! The dispatch-time rules of survey messages.

use super::*;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Error;
use crate::dispatch::{SendPolicy, Verdict};
use crate::flows::tracking::Milestone;
use crate::model::{ChannelKind, Invitation, OrderId, Shipment};
use crate::store::{Outbox, OutboxEntry, OutboxStatus, SnapshotStore, SurveyStore};

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
