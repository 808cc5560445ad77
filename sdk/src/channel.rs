//! Sending messages: the [`MessageChannel`] trait and how its failures are classified.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::model::{ChannelKind, DeliveryStatus, OutboundMessage, Receipt};

/// Why a send failed, classified so the dispatcher knows what it may do next.
///
/// Modelled on smithy-rs: the error says whether the request may have reached the provider.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// Will never succeed as it is (invalid number, recipient opted out, rejected content).
    /// Not retried; the message is dead-lettered.
    #[error("permanent failure{}: {reason}", code.as_deref().map(|c| format!(" (provider code {c})")).unwrap_or_default())]
    Permanent {
        /// The provider's error code (`21211`).
        code: Option<String>,
        /// What the provider said.
        reason: String,
        /// The recipient has opted out of this channel; record it in the consent store.
        opted_out: bool,
    },
    /// Failed before the provider accepted it, and may succeed later (throttled, 5xx,
    /// connection refused). Retried with backoff, no sooner than `retry_after`.
    #[error("transient failure: {reason}")]
    Transient {
        /// The provider's requested wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// What happened.
        reason: String,
    },
    /// The request may have been sent: a timeout after the request was written, a dropped
    /// connection before the answer. Not retried blindly: recorded as uncertain.
    #[error("the request may have been sent: {reason}")]
    MaybeSent {
        /// What happened.
        reason: String,
    },
    /// The channel needs an approved template for this message (WhatsApp outside the
    /// 24-hour customer-service window). The flow may resend it as a template.
    #[error("a template is required: {reason}")]
    TemplateRequired {
        /// What the provider said.
        reason: String,
    },
}

impl SendError {
    /// A permanent failure.
    pub fn permanent(code: Option<&str>, reason: impl Into<String>) -> Self {
        SendError::Permanent {
            code: code.map(str::to_owned),
            reason: reason.into(),
            opted_out: false,
        }
    }

    /// A transient failure.
    pub fn transient(retry_after: Option<Duration>, reason: impl Into<String>) -> Self {
        SendError::Transient {
            retry_after,
            reason: reason.into(),
        }
    }
}

/// A message the provider says it has, found by [`MessageChannel::find_sent`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The provider's id and when it took the message.
    pub receipt: Receipt,
    /// Where the message stands now, as the provider says.
    pub status: DeliveryStatus,
}

impl SentMessage {
    /// A message the provider has.
    pub fn new(receipt: Receipt, status: DeliveryStatus) -> Self {
        Self { receipt, status }
    }
}

/// What asking the provider about a possibly-sent message found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup {
    /// The provider has messages matching it, oldest first (never empty).
    Found(Vec<SentMessage>),
    /// The provider has no such message.
    NotFound,
    /// This channel cannot ask (the default): a late delivery report, or the uncertain
    /// policy's resend-or-abandon rule, resolves the message instead.
    Unsupported,
}

/// A way to deliver one message: email over SMTP, SMS or WhatsApp through a provider, or the
/// sandbox's console. Adapters implement it; the [`Dispatcher`](crate::dispatch::Dispatcher)
/// calls it at most once per attempt.
///
/// ```
/// use aftercare::channel::{MessageChannel, SendError};
/// use aftercare::model::{ChannelKind, OutboundMessage, Receipt};
///
/// #[derive(Debug)]
/// struct Console;
///
/// #[async_trait::async_trait]
/// impl MessageChannel for Console {
///     fn kind(&self) -> ChannelKind { ChannelKind::Sms }
///     async fn send(&self, msg: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
///         println!("to {}: {}", msg.to, msg.text);
///         Ok(Receipt::new(key, chrono::Utc::now()))
///     }
/// }
/// ```
#[async_trait]
pub trait MessageChannel: Send + Sync + std::fmt::Debug {
    /// The channel this sends on.
    fn kind(&self) -> ChannelKind;

    /// Sends one message. `idempotency_key` is stable across attempts of the same message;
    /// pass it to providers that de-duplicate (and use it for a stable email Message-ID).
    async fn send(
        &self,
        message: &OutboundMessage,
        idempotency_key: &str,
    ) -> Result<Receipt, SendError>;

    /// Asks the provider whether it has `message`, sent at or after `since` (a send that
    /// ended "may have been sent"). Matches are the same recipient, sender and content.
    /// The default cannot ask: [`Lookup::Unsupported`]. Used by
    /// [`UncertainResolver`](crate::uncertain::UncertainResolver).
    async fn find_sent(
        &self,
        message: &OutboundMessage,
        since: DateTime<Utc>,
    ) -> Result<Lookup, SendError> {
        let _ = (message, since);
        Ok(Lookup::Unsupported)
    }
}
