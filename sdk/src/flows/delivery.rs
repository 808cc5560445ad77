//! Delivery reports: what a provider says became of a message after it accepted it (Twilio
//! status callbacks, WhatsApp Cloud statuses), written to the ledger against that message.
//!
//! The ledger already says a message was [`Decision::Sent`] (accepted by the provider);
//! [`DeliveryReports`] adds [`Decision::Delivered`] (delivered, or read) and
//! [`Decision::Undelivered`] (with the provider's error code), so an operator sees whether
//! the tracking link or the survey actually reached the customer. Progress reports
//! (`queued`, `sent`) add nothing and are not written. Reports are matched by the provider's
//! message id (the [`Receipt`](crate::model::Receipt)); a report about a message this store
//! did not send (another application on the same account) is ignored. A report processed
//! twice (the inbox is at least once) is written once. A milestone message reported
//! undelivered can fall back to the customer's next channel:
//! [`TrackingFlow::on_undelivered`](crate::flows::tracking::TrackingFlow::on_undelivered).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::model::DeliveryStatus;
use crate::store::{Decision, Ledger, LedgerEntry, Outbox, OutboxEntry};

/// What [`DeliveryReports::record`] did with a report.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ReportOutcome {
    /// A ledger row with this decision was written about `message` (for an
    /// [`Decision::Undelivered`], hand it to
    /// [`TrackingFlow::on_undelivered`](crate::flows::tracking::TrackingFlow::on_undelivered)
    /// to fall back to the next channel).
    Recorded {
        /// The decision written.
        decision: Decision,
        /// The message it is about.
        message: Box<OutboxEntry>,
    },
    /// The same report was already in the ledger (a redelivery): nothing written. Carries
    /// the same as [`ReportOutcome::Recorded`], so that work after the write (a fallback)
    /// that a crash interrupted is done on the redelivery; that work must be idempotent.
    AlreadyRecorded {
        /// The decision already written.
        decision: Decision,
        /// The message it is about.
        message: Box<OutboxEntry>,
    },
    /// A progress report (`queued`, `sent`) or a status no mapping knows: nothing to write.
    Progress,
    /// No message sent from this store has that provider id.
    UnknownMessage,
}

/// Writes providers' delivery reports to the ledger.
///
/// ```
/// # use std::sync::Arc;
/// # use aftercare::flows::delivery::{DeliveryReports, ReportOutcome};
/// # use aftercare::model::DeliveryStatus;
/// # async fn demo<S: aftercare::store::Outbox + aftercare::store::Ledger + 'static>(
/// #     store: Arc<S>,
/// # ) -> Result<(), aftercare::Error> {
/// let reports = DeliveryReports::new(store);
/// let outcome = reports
///     .record("SM1234", &DeliveryStatus::Delivered, chrono::Utc::now())
///     .await?;
/// assert!(matches!(outcome, ReportOutcome::Recorded { .. } | ReportOutcome::UnknownMessage));
/// # Ok(()) }
/// ```
pub struct DeliveryReports {
    outbox: Arc<dyn Outbox>,
    ledger: Arc<dyn Ledger>,
}

impl std::fmt::Debug for DeliveryReports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryReports").finish_non_exhaustive()
    }
}

impl DeliveryReports {
    /// Reports into a store's outbox and ledger.
    pub fn new<S: Outbox + Ledger + 'static>(store: Arc<S>) -> Self {
        Self {
            outbox: store.clone(),
            ledger: store,
        }
    }

    /// The ledger decision and reason a status stands for, or `None` for progress.
    pub fn decision(status: &DeliveryStatus) -> Option<(Decision, String)> {
        match status {
            DeliveryStatus::Delivered => Some((
                Decision::Delivered,
                "the provider reports it delivered".to_owned(),
            )),
            DeliveryStatus::Read => Some((
                Decision::Delivered,
                "the provider reports it read".to_owned(),
            )),
            DeliveryStatus::Failed { code } => Some((
                Decision::Undelivered,
                match code {
                    Some(c) => format!("the provider could not deliver it (error {c})"),
                    None => "the provider could not deliver it".to_owned(),
                },
            )),
            _ => None,
        }
    }

    /// Writes what `status` says about the message the provider knows as
    /// `provider_message_id`, as of `at`.
    pub async fn record(
        &self,
        provider_message_id: &str,
        status: &DeliveryStatus,
        at: DateTime<Utc>,
    ) -> Result<ReportOutcome, Error> {
        let Some((decision, reason)) = Self::decision(status) else {
            return Ok(ReportOutcome::Progress);
        };
        let Some(message) = self
            .outbox
            .outbox_by_provider_id(provider_message_id)
            .await?
        else {
            tracing::debug!(
                provider_message_id,
                "delivery report for a message this store did not send"
            );
            return Ok(ReportOutcome::UnknownMessage);
        };
        let known = self.ledger.ledger_for_key(&message.key).await?;
        if known
            .iter()
            .any(|e| e.decision == decision && e.reason == reason)
        {
            return Ok(ReportOutcome::AlreadyRecorded {
                decision,
                message: Box::new(message),
            });
        }
        self.ledger
            .record(LedgerEntry::for_message(
                at,
                &message.key,
                &message.message,
                decision,
                reason,
            ))
            .await?;
        Ok(ReportOutcome::Recorded {
            decision,
            message: Box::new(message),
        })
    }
}
