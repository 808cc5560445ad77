//! Delivery reports: what a provider says became of a message after it accepted it (Twilio
//! status callbacks, WhatsApp Cloud statuses), written to the ledger against that message.
//!
//! The ledger already says a message was [`Decision::Sent`] (accepted by the provider);
//! [`DeliveryReports`] adds [`Decision::Delivered`] (delivered, or read) and
//! [`Decision::Undelivered`] (with the provider's error code), so an operator sees whether
//! the tracking link or the survey actually reached the customer. Progress reports
//! (`queued`, `sent`) add nothing and are not written. Reports are matched by the provider's
//! message id (the [`Receipt`]); a report about a message this store
//! did not send (another application on the same account) is ignored. A report processed
//! twice (the inbox is at least once) is written once. A milestone message reported
//! undelivered can fall back to the customer's next channel:
//! [`TrackingFlow::on_undelivered`](crate::flows::tracking::TrackingFlow::on_undelivered).
//!
//! A report may arrive for a message left `uncertain` (its send timed out, so this store
//! never learnt the provider's id). [`DeliveryReports::record_report`] resolves it: a
//! report that names the message's key (WhatsApp Cloud echoes `biz_opaque_callback_data`)
//! makes it `sent` with the report's id at once (ledger row `reconciled`); a report naming
//! only its recipient (a Twilio status callback's `To`) has the
//! [`UncertainResolver`], when one is given, ask the
//! provider about that recipient's uncertain messages. Then the report is written as usual.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::model::{ChannelKind, DeliveryStatus, Receipt};
use crate::store::{Decision, Ledger, LedgerEntry, Outbox, OutboxEntry, OutboxStatus, Resolution};
use crate::uncertain::UncertainResolver;

/// A delivery report, with what else the provider said that can name the message.
///
/// ```
/// use aftercare::flows::delivery::DeliveryReport;
/// use aftercare::model::{ChannelKind, DeliveryStatus};
/// let r = DeliveryReport::new("wamid.1", DeliveryStatus::Delivered, chrono::Utc::now())
///     .key("tracking:1001:1:shipped:whatsapp")
///     .recipient(ChannelKind::Whatsapp, "+905321234567");
/// assert_eq!(r.key.as_deref(), Some("tracking:1001:1:shipped:whatsapp"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// The provider's id of the message.
    pub provider_message_id: String,
    /// What the provider reports.
    pub status: DeliveryStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// The message's outbox key, when the provider echoes it back.
    pub key: Option<String>,
    /// The channel and recipient the report is about, when it says.
    pub recipient: Option<(ChannelKind, String)>,
}

impl DeliveryReport {
    /// A report about the message the provider knows as `provider_message_id`.
    pub fn new(
        provider_message_id: impl Into<String>,
        status: DeliveryStatus,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            provider_message_id: provider_message_id.into(),
            status,
            at,
            key: None,
            recipient: None,
        }
    }

    /// The outbox key the provider echoed back.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The channel and recipient the report is about.
    pub fn recipient(mut self, channel: ChannelKind, to: impl Into<String>) -> Self {
        self.recipient = Some((channel, to.into()));
        self
    }
}

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
    resolver: Option<Arc<UncertainResolver>>,
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
            resolver: None,
        }
    }

    /// Asks the provider, through `resolver`, about a recipient's uncertain messages when a
    /// report for a message this store does not know names that recipient.
    pub fn resolver(mut self, resolver: Arc<UncertainResolver>) -> Self {
        self.resolver = Some(resolver);
        self
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
            DeliveryStatus::Bounced { permanent, code } => Some((
                Decision::Bounced,
                format!(
                    "the recipient's mail server refused it: {} bounce{}",
                    if *permanent { "hard" } else { "soft" },
                    code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
                ),
            )),
            DeliveryStatus::Complained => Some((
                Decision::Complained,
                "the recipient reported it as spam".to_owned(),
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
        self.record_report(&DeliveryReport::new(
            provider_message_id,
            status.clone(),
            at,
        ))
        .await
    }

    /// Writes a report; a message it names that was left uncertain is resolved first (see
    /// the [module](self) documentation).
    pub async fn record_report(&self, report: &DeliveryReport) -> Result<ReportOutcome, Error> {
        let pid = report.provider_message_id.as_str();
        let mut found = self.outbox.outbox_by_provider_id(pid).await?;
        if found.is_none() {
            found = self.resolve_named(report).await?;
        }
        if found.is_none() {
            found = self.sent_by_key(report).await?;
        }
        if found.is_none()
            && let (Some(resolver), Some((channel, to))) = (&self.resolver, &report.recipient)
            && resolver.reconcile_recipient(*channel, to).await? > 0
        {
            found = self.outbox.outbox_by_provider_id(pid).await?;
        }
        let Some((decision, reason)) = Self::decision(&report.status) else {
            return Ok(ReportOutcome::Progress);
        };
        let Some(message) = found else {
            tracing::debug!(
                provider_message_id = pid,
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
                report.at,
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

    /// A sent message the report names by its key (an email provider echoes the key given
    /// as a custom argument), when the report's recipient is the message's: for messages
    /// whose provider id was not learnt (sent by SMTP through the provider's relay).
    async fn sent_by_key(&self, report: &DeliveryReport) -> Result<Option<OutboxEntry>, Error> {
        let (Some(key), Some((channel, to))) = (&report.key, &report.recipient) else {
            return Ok(None);
        };
        Ok(self.outbox.outbox_by_key(key).await?.filter(|m| {
            m.status == OutboxStatus::Sent
                && m.message.channel == *channel
                && m.message.to.trim().eq_ignore_ascii_case(to.trim())
        }))
    }

    /// An uncertain message the report names by its key becomes `sent` with the report's
    /// provider id: the provider has it.
    async fn resolve_named(&self, report: &DeliveryReport) -> Result<Option<OutboxEntry>, Error> {
        let Some(key) = &report.key else {
            return Ok(None);
        };
        let Some(m) = self.outbox.outbox_by_key(key).await? else {
            return Ok(None);
        };
        let same_channel = report
            .recipient
            .as_ref()
            .is_none_or(|(c, _)| *c == m.message.channel);
        if m.status != OutboxStatus::Uncertain || !same_channel {
            return Ok(None);
        }
        let reason = format!(
            "reconciled: a delivery report ({}) names it, sent as {} (the earlier attempt was uncertain)",
            status_word(&report.status),
            report.provider_message_id
        );
        let receipt = Receipt::new(report.provider_message_id.clone(), report.at);
        self.outbox
            .resolve_uncertain(m.id, &Resolution::Sent(receipt), &reason, report.at)
            .await?;
        self.outbox
            .outbox_by_provider_id(&report.provider_message_id)
            .await
    }
}

fn status_word(s: &DeliveryStatus) -> &str {
    match s {
        DeliveryStatus::Queued => "queued",
        DeliveryStatus::Sent => "sent",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Read => "read",
        DeliveryStatus::Failed { .. } => "failed",
        DeliveryStatus::Unknown(raw) => raw.as_str(),
        DeliveryStatus::Bounced { .. } => "bounced",
        DeliveryStatus::Complained => "complained",
    }
}
