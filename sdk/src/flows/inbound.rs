//! What channels send back: customers' replies, delivery reports and email events, routed to
//! the flows that act on them.
//!
//! A messaging or email provider's webhooks (Twilio, WhatsApp Cloud, SendGrid, Mailgun,
//! SES...) carry three kinds of news, and every integration used to route them by hand:
//!
//! | news | goes to |
//! |---|---|
//! | a reply ([`InboundMessage`]) | opt-out / opt-in / help keywords ([`ReplyHandler`]); otherwise a survey answer ([`FeedbackFlow::on_reply`]); a help request opens a ticket ([`TicketFlow::on_help`]) when a helpdesk is configured |
//! | a delivery report ([`DeliveryReport`]) | the ledger ([`DeliveryReports`]); an undelivered message is sent once on the next channel by the flow that owns it ([`TrackingFlow::on_undelivered`], [`FeedbackFlow::on_undelivered`]) |
//! | an email event ([`EmailEvent`]) | the ledger and, for hard bounces and complaints, the consent store ([`EmailEvents`]); a bounced message falls back like an undelivered one |
//!
//! An adapter says what an inbox entry of its source means by implementing
//! [`ChannelDecoder`]; [`InboundHandler`] does the rest, for every source registered with it.
//! `Stack::builder(..).channel_source(name, source, decoder)` registers all three (route,
//! verifier, decoder) under one name.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::delivery::{DeliveryReport, DeliveryReports, ReportOutcome};
use super::email::{EmailEvent, EmailEvents};
use super::feedback::FeedbackFlow;
use super::replies::{ReplyAction, ReplyHandler};
use super::tickets::TicketFlow;
use super::tracking::TrackingFlow;
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{InboundMessage, PlatformEvent};
use crate::store::{Decision, InboxEntry, OutboxEntry};

/// What one stored webhook of a channel's source says.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ChannelUpdate {
    /// Customers' messages.
    pub messages: Vec<InboundMessage>,
    /// Delivery reports about messages sent.
    pub reports: Vec<DeliveryReport>,
    /// Email delivery events.
    pub email: Vec<EmailEvent>,
}

impl ChannelUpdate {
    /// Nothing to act on (a webhook type the integration does not use).
    pub fn none() -> Self {
        Self::default()
    }

    /// Customers' messages.
    pub fn messages(messages: Vec<InboundMessage>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }

    /// Delivery reports.
    pub fn reports(reports: Vec<DeliveryReport>) -> Self {
        Self {
            reports,
            ..Self::default()
        }
    }

    /// Email events.
    pub fn email(email: Vec<EmailEvent>) -> Self {
        Self {
            email,
            ..Self::default()
        }
    }

    /// Adds messages.
    pub fn with_messages(mut self, messages: Vec<InboundMessage>) -> Self {
        self.messages.extend(messages);
        self
    }

    /// Adds reports.
    pub fn with_reports(mut self, reports: Vec<DeliveryReport>) -> Self {
        self.reports.extend(reports);
        self
    }
}

/// Reads a stored webhook of a channel's source (the body was verified when it arrived).
pub trait ChannelDecoder: Send + Sync {
    /// What the entry says. A body that cannot be read is a permanent failure
    /// ([`HandlerError::Poison`]): the entry is dead-lettered with the reason.
    fn decode(&self, entry: &InboxEntry) -> Result<ChannelUpdate, HandlerError>;
}

impl<F> ChannelDecoder for F
where
    F: Fn(&InboxEntry) -> Result<ChannelUpdate, HandlerError> + Send + Sync,
{
    fn decode(&self, entry: &InboxEntry) -> Result<ChannelUpdate, HandlerError> {
        self(entry)
    }
}

/// Routes what channels send back to the flows (see the [module](self) table). Entries of
/// sources it has no decoder for are not its business and are left alone.
pub struct InboundHandler {
    decoders: HashMap<String, Arc<dyn ChannelDecoder>>,
    replies: ReplyHandler,
    reports: DeliveryReports,
    email: EmailEvents,
    tracking: Arc<TrackingFlow>,
    feedback: Option<Arc<FeedbackFlow>>,
    tickets: Option<Arc<TicketFlow>>,
}

impl std::fmt::Debug for InboundHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut sources: Vec<&String> = self.decoders.keys().collect();
        sources.sort();
        f.debug_struct("InboundHandler")
            .field("sources", &sources)
            .field("feedback", &self.feedback.is_some())
            .field("tickets", &self.tickets.is_some())
            .finish_non_exhaustive()
    }
}

impl InboundHandler {
    /// A handler: keywords through `replies`, reports through `reports`, email events
    /// through `email`, fallbacks through `tracking`.
    pub fn new(
        replies: ReplyHandler,
        reports: DeliveryReports,
        email: EmailEvents,
        tracking: Arc<TrackingFlow>,
    ) -> Self {
        Self {
            decoders: HashMap::new(),
            replies,
            reports,
            email,
            tracking,
            feedback: None,
            tickets: None,
        }
    }

    /// Surveys: replies that are not keywords are answers, undelivered invitations fall back.
    pub fn feedback(mut self, feedback: Arc<FeedbackFlow>) -> Self {
        self.feedback = Some(feedback);
        self
    }

    /// A helpdesk: a help request opens (or notes) the order's ticket.
    pub fn tickets(mut self, tickets: Arc<TicketFlow>) -> Self {
        self.tickets = Some(tickets);
        self
    }

    /// Reads entries of source `name` with `decoder`.
    pub fn decoder(mut self, name: impl Into<String>, decoder: Arc<dyn ChannelDecoder>) -> Self {
        self.decoders.insert(name.into(), decoder);
        self
    }

    /// Whether entries of `source` are read here.
    pub fn reads(&self, source: &str) -> bool {
        self.decoders.contains_key(source)
    }

    async fn fall_back(&self, message: &OutboxEntry) -> Result<(), HandlerError> {
        // Each flow re-sends only its own messages (tracking milestones, survey invitations)
        // and leaves the other's alone.
        self.tracking.on_undelivered(message).await?;
        if let Some(f) = &self.feedback {
            f.on_undelivered(message).await?;
        }
        Ok(())
    }

    /// Acts on one decoded update (what [`EventHandler::handle`] does after decoding).
    pub async fn act(&self, update: &ChannelUpdate) -> Result<(), HandlerError> {
        for report in &update.reports {
            match self.reports.record_report(report).await? {
                // Also on a redelivery: the fallback is idempotent, and a crash may have come
                // between the ledger row and the fallback.
                ReportOutcome::Recorded {
                    decision: Decision::Undelivered,
                    message,
                }
                | ReportOutcome::AlreadyRecorded {
                    decision: Decision::Undelivered,
                    message,
                } => self.fall_back(&message).await?,
                _ => {}
            }
        }
        for event in &update.email {
            if let Some(m) = self.email.record(event).await?.fallback {
                self.fall_back(&m).await?;
            }
        }
        for m in &update.messages {
            match self.replies.handle(m, None).await? {
                ReplyAction::NotAKeyword => {
                    if let Some(f) = &self.feedback {
                        f.on_reply(m).await?;
                    }
                }
                ReplyAction::Help { .. } => {
                    if let Some(t) = &self.tickets {
                        t.on_help(m).await?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[async_trait]
impl EventHandler for InboundHandler {
    async fn handle(&self, entry: &InboxEntry, _: Vec<PlatformEvent>) -> Result<(), HandlerError> {
        let Some(decoder) = self.decoders.get(entry.source.as_str()) else {
            return Ok(());
        };
        let update = decoder.decode(entry)?;
        self.act(&update).await
    }
}
