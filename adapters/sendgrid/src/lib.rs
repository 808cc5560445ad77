//! # aftercare-sendgrid
//!
//! SendGrid (Twilio SendGrid) for [Aftercare](aftercare), one crate for its three surfaces:
//!
//! - [`events`]: the Event Webhook as a [`WebhookSource`](aftercare::webhook::WebhookSource)
//!   — the ECDSA P-256 signature (`X-Twilio-Email-Event-Webhook-Signature`, over the
//!   timestamp header followed by the raw body, with the account's public key; SendGrid's
//!   official vector is a test), and the events decoded into
//!   [`EmailEvent`](aftercare::flows::email::EmailEvent)s for the sdk's
//!   [`EmailEvents`](aftercare::flows::email::EmailEvents) (ledger, suppression, next
//!   channel).
//! - [`inbound`]: Inbound Parse (customers' email replies) as a source, protected by HTTP
//!   Basic credentials in the URL (SendGrid does not sign it), decoded into
//!   [`InboundMessage`](aftercare::model::InboundMessage)s with quoted history removed.
//! - [`send`]: [`SendGridChannel`], email through the v3 Mail Send API with the outbox key
//!   as a custom argument and SendGrid's `X-Message-Id` as the receipt, which the events'
//!   `sg_message_id` begins with.
//!
//! Answers for SendGrid's retries: a refused signature is `401`, a storage failure `503`
//! (SendGrid retries 5xx; for Inbound Parse, a 4xx drops the email for good).

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod events;
pub mod inbound;
pub mod send;

pub use events::{EventWebhookKey, SendGridEvents};
pub use inbound::SendGridInbound;
pub use send::SendGridChannel;

/// What went wrong setting up the SendGrid adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendGridError {
    /// The Event Webhook verification key is not a P-256 public key.
    #[error(
        "the SendGrid verification key is not a P-256 public key in base64 DER or PEM; copy it from Settings > Mail Settings > Event Webhook > Signature Verification"
    )]
    BadKey,
    /// A required setting is empty.
    #[error("the SendGrid {0} is empty")]
    Missing(&'static str),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}
