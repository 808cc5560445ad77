//! Email delivery events (SendGrid, Postmark, Mailgun, Amazon SES): what became of an email
//! after the provider accepted it, written to the ledger against that message, with the
//! address suppressed where the event says it must be.
//!
//! | event | ledger (on the message) | consent store (email, that address) | next channel |
//! |---|---|---|---|
//! | delivered | `delivered` | — | — |
//! | opened (optional) | `delivered` ("read") | — | — |
//! | hard bounce | `bounced` ("hard bounce") | `Denied` for every purpose, source `bounce:{provider}` | yes |
//! | soft bounce (the provider gave up) | `bounced` ("soft bounce") | — | yes |
//! | dropped by the provider (suppressed address) | `undelivered` | — | yes |
//! | complaint (marked as spam) | `complained` | `Denied` for feedback, marketing and the message's purpose, source `complaint:{provider}` | no: it was delivered |
//! | unsubscribe (provider's link) | — | `Denied` for feedback and marketing, source `unsubscribe:{provider}` | no |
//! | deferred, processed, clicked... | — | — | — |
//!
//! Messages are found by the provider's message id (the [`Receipt`](crate::model::Receipt)
//! the channel recorded), or by the outbox key the provider echoes back (a custom argument)
//! together with the recipient. Suppression happens even when the message is not found
//! (sent by another system on the same account): a hard bounce is true of the address.
//! Events are processed at least once: the ledger row is written once, consent records are
//! the latest decision (writing one twice changes nothing), and the next channel
//! ([`EmailOutcome::fallback`]) is idempotent in the flows.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::flows::delivery::{DeliveryReport, DeliveryReports, ReportOutcome};
use crate::model::{ChannelKind, ConsentState, DeliveryStatus, Purpose};
use crate::store::{ConsentRecord, ConsentStore, Decision, Ledger, Outbox, OutboxEntry};

/// What happened to an email, on the providers' common ground.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailEventKind {
    /// Accepted by the recipient's server.
    Delivered,
    /// Opened (unreliable: privacy features pre-fetch; never a business decision alone).
    Opened,
    /// Refused by the recipient's server: `permanent` for a hard bounce.
    Bounced {
        /// Hard (`true`) or soft.
        permanent: bool,
    },
    /// The provider did not send it (the address is on its suppression list).
    Dropped,
    /// Marked as spam.
    Complained,
    /// Unsubscribed through the provider's link.
    Unsubscribed,
    /// Progress or engagement that changes nothing here (processed, deferred, clicked), by
    /// the provider's name.
    Other(String),
}

/// One email event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmailEvent {
    /// The provider (`sendgrid`), for consent sources and reasons.
    pub provider: &'static str,
    /// What happened.
    pub kind: EmailEventKind,
    /// The address it was sent to.
    pub recipient: String,
    /// The provider's id of the message, as the channel recorded it.
    pub provider_message_id: Option<String>,
    /// The outbox key, when the provider echoes it back.
    pub key: Option<String>,
    /// The provider's reason or code (`550 5.1.1 user unknown`).
    pub reason: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

impl EmailEvent {
    /// An event about the email sent to `recipient`.
    pub fn new(
        provider: &'static str,
        kind: EmailEventKind,
        recipient: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            provider,
            kind,
            recipient: recipient.into(),
            provider_message_id: None,
            key: None,
            reason: None,
            at,
        }
    }
}

/// What [`EmailEvents::record`] did.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EmailOutcome {
    /// What the ledger got.
    pub report: ReportOutcome,
    /// Whether the address was suppressed (a consent record written).
    pub suppressed: bool,
    /// The message to send on the next channel (a bounce or a drop): hand it to
    /// `TrackingFlow::on_undelivered` and `FeedbackFlow::on_undelivered`.
    pub fallback: Option<OutboxEntry>,
}

/// Writes email events to the ledger and the consent store.
pub struct EmailEvents {
    reports: DeliveryReports,
    consent: Arc<dyn ConsentStore>,
    record_opens: bool,
}

impl std::fmt::Debug for EmailEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailEvents")
            .field("record_opens", &self.record_opens)
            .finish_non_exhaustive()
    }
}

impl EmailEvents {
    /// Events into a store's outbox, ledger and consent store. Opens are not written.
    pub fn new<S: Outbox + Ledger + ConsentStore + 'static>(store: Arc<S>) -> Self {
        Self {
            reports: DeliveryReports::new(store.clone()),
            consent: store,
            record_opens: false,
        }
    }

    /// Writes opens to the ledger too (as `delivered`, "read").
    pub fn record_opens(mut self, yes: bool) -> Self {
        self.record_opens = yes;
        self
    }

    /// Records one event (see the [module](self) table).
    pub async fn record(&self, e: &EmailEvent) -> Result<EmailOutcome, Error> {
        let status = match &e.kind {
            EmailEventKind::Delivered => Some(DeliveryStatus::Delivered),
            EmailEventKind::Opened if self.record_opens => Some(DeliveryStatus::Read),
            EmailEventKind::Bounced { permanent } => Some(DeliveryStatus::Bounced {
                permanent: *permanent,
                code: e.reason.clone(),
            }),
            EmailEventKind::Dropped => Some(DeliveryStatus::Failed {
                code: Some(
                    e.reason
                        .clone()
                        .map_or_else(|| "dropped".to_owned(), |r| format!("dropped: {r}")),
                ),
            }),
            EmailEventKind::Complained => Some(DeliveryStatus::Complained),
            _ => None,
        };
        let report = match status {
            Some(status) => {
                let mut r = DeliveryReport::new(
                    e.provider_message_id.clone().unwrap_or_default(),
                    status,
                    e.at,
                )
                .recipient(ChannelKind::Email, e.recipient.clone());
                if let Some(k) = &e.key {
                    r = r.key(k.clone());
                }
                self.reports.record_report(&r).await?
            }
            None => ReportOutcome::Progress,
        };
        let message = match &report {
            ReportOutcome::Recorded { message, .. }
            | ReportOutcome::AlreadyRecorded { message, .. } => Some(message.as_ref().clone()),
            _ => None,
        };
        let purposes: Option<Vec<Purpose>> = match &e.kind {
            EmailEventKind::Bounced { permanent: true } => Some(Vec::new()),
            EmailEventKind::Complained => {
                let mut p = vec![Purpose::Feedback, Purpose::Marketing];
                if let Some(m) = &message
                    && !p.contains(&m.message.purpose)
                {
                    p.push(m.message.purpose);
                }
                Some(p)
            }
            EmailEventKind::Unsubscribed => Some(vec![Purpose::Feedback, Purpose::Marketing]),
            _ => None,
        };
        let suppressed = match purposes {
            Some(purposes) => {
                self.suppress(e, &purposes).await?;
                true
            }
            None => false,
        };
        let fallback = match (&e.kind, &report) {
            (
                EmailEventKind::Bounced { .. } | EmailEventKind::Dropped,
                ReportOutcome::Recorded { decision, message }
                | ReportOutcome::AlreadyRecorded { decision, message },
            ) if matches!(decision, Decision::Bounced | Decision::Undelivered) => {
                Some(message.as_ref().clone())
            }
            _ => None,
        };
        Ok(EmailOutcome {
            report,
            suppressed,
            fallback,
        })
    }

    /// `Denied` for `purposes` (none: every purpose) on email for the event's address.
    async fn suppress(&self, e: &EmailEvent, purposes: &[Purpose]) -> Result<(), Error> {
        let source = match e.kind {
            EmailEventKind::Bounced { .. } => format!("bounce:{}", e.provider),
            EmailEventKind::Complained => format!("complaint:{}", e.provider),
            _ => format!("unsubscribe:{}", e.provider),
        };
        if purposes.is_empty() {
            return self
                .consent
                .set_consent(ConsentRecord::new(
                    ChannelKind::Email,
                    &e.recipient,
                    None,
                    ConsentState::Denied,
                    source,
                    e.at,
                ))
                .await;
        }
        for p in purposes {
            self.consent
                .set_consent(ConsentRecord::new(
                    ChannelKind::Email,
                    &e.recipient,
                    Some(*p),
                    ConsentState::Denied,
                    source.clone(),
                    e.at,
                ))
                .await?;
        }
        Ok(())
    }
}
