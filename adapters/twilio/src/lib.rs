//! # aftercare-twilio
//!
//! SMS and WhatsApp through Twilio for [Aftercare](aftercare):
//!
//! - [`TwilioChannel`]: a [`MessageChannel`](aftercare::channel::MessageChannel) sending
//!   through Twilio's Messages API, with Twilio's errors classified for the dispatcher
//!   ([`errors`]): opt-outs (21610) are recorded, throttling is retried after `Retry-After`,
//!   a timeout after the request was written is "may have been sent".
//! - [`signature`]: `X-Twilio-Signature` validation (form and JSON bodies; HMAC-SHA1 with the
//!   Auth Token, or the algorithm `X-Twilio-Webhooks-Signature-Settings` names, HMAC-SHA256,
//!   with a SharedKey) and [`signature::sign`].
//! - [`webhook`]: [`TwilioWebhook`](webhook::TwilioWebhook), the
//!   [`WebhookSource`](aftercare::webhook::WebhookSource) for incoming messages and status
//!   callbacks (refusing another account's, `AccountSid`, with 403; dead-lettering a body that
//!   is not the kind it claims), and the typed decoders [`webhook::parse_inbound`] /
//!   [`webhook::parse_status`].
//! - [`rate`]: documented default sending rates.
//!
//! STOP keywords are not parsed here: an incoming "STOP" is an
//! [`InboundMessage`] like any other, for the sdk's
//! opt-out handling.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use aftercare::channel::MessageChannel;
//! use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
//! use aftercare_twilio::{Credentials, Sender, TwilioChannel};
//!
//! let sms = TwilioChannel::sms(
//!     "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
//!     Credentials::api_key("SKXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "secret"),
//!     Sender::MessagingService("MGXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into()),
//! )?;
//! let msg = OutboundMessage::new(ChannelKind::Sms, "+15005550006", Purpose::Transactional, "Your parcel is on its way");
//! let receipt = sms.send(&msg, "tracking:1001:1:shipped:sms").await?;
//! println!("sent as {}", receipt.provider_message_id);
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod channel;
pub mod errors;
pub mod rate;
pub mod signature;
pub mod webhook;

pub use channel::{Credentials, Sender, TwilioChannel};

use aftercare::model::{ChannelKind, InboundMessage};
use chrono::{DateTime, Utc};

/// What went wrong setting up the Twilio adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TwilioError {
    /// Twilio carries SMS and WhatsApp only.
    #[error("Twilio cannot send on the {0} channel; use an SMS or WhatsApp channel")]
    UnsupportedChannel(ChannelKind),
    /// The Account SID or the secret is empty.
    #[error("the Twilio Account SID or secret is empty; copy them from the Twilio console")]
    MissingCredentials,
    /// The HTTP client could not be built.
    #[error("the HTTP client for Twilio could not be built: {0}")]
    HttpClient(String),
}

/// Builds an [`InboundMessage`] through its serialized form (the sdk type is
/// `#[non_exhaustive]` and has no constructor).
#[allow(clippy::too_many_arguments)]
pub(crate) fn inbound_message(
    channel: ChannelKind,
    from: &str,
    to: &str,
    text: &str,
    button_payload: Option<&str>,
    provider_message_id: Option<&str>,
    in_reply_to: Option<&str>,
    received_at: DateTime<Utc>,
) -> Result<InboundMessage, aftercare::Error> {
    serde_json::from_value(serde_json::json!({
        "channel": channel,
        "from": from,
        "to": to,
        "text": text,
        "button_payload": button_payload,
        "provider_message_id": provider_message_id,
        "in_reply_to": in_reply_to,
        "received_at": received_at,
    }))
    .map_err(|e| aftercare::Error::decode("an incoming message", e))
}

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use reqwest;
