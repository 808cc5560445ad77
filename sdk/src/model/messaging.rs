use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CustomerId, OrderId, Purpose, ShopId};

/// A way to reach a customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChannelKind {
    /// Email.
    Email,
    /// SMS text message.
    Sms,
    /// WhatsApp.
    Whatsapp,
    /// A signed outbound webhook (Standard Webhooks) to a system such as a helpdesk; the
    /// address is its URL.
    Webhook,
}

impl ChannelKind {
    /// Every channel that reaches a customer, in the default preference order (WhatsApp,
    /// SMS, email).
    pub const ALL: [ChannelKind; 3] = [ChannelKind::Whatsapp, ChannelKind::Sms, ChannelKind::Email];

    /// Stable text form used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Sms => "sms",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Webhook => "webhook",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "email" => ChannelKind::Email,
            "sms" => ChannelKind::Sms,
            "whatsapp" => ChannelKind::Whatsapp,
            "webhook" => ChannelKind::Webhook,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pre-approved template (WhatsApp business-initiated messages) and its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TemplateRef {
    /// Template name as approved by the provider.
    pub name: String,
    /// Template language code (`en_US`, `ar`).
    pub language: String,
    /// Body parameters, in order.
    pub body_params: Vec<String>,
    /// The dynamic part of a URL button (a tracking or survey token), when the template has one.
    pub url_button_param: Option<String>,
}

impl TemplateRef {
    /// A template by name and language, without parameters.
    pub fn new(name: impl Into<String>, language: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            language: language.into(),
            body_params: Vec::new(),
            url_button_param: None,
        }
    }
}

/// A message ready to send on one channel.
///
/// ```
/// use aftercare::model::{OutboundMessage, ChannelKind, Purpose};
/// let m = OutboundMessage::new(ChannelKind::Sms, "+905321234567", Purpose::Transactional, "Your parcel is on its way");
/// assert_eq!(m.locale, "en");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct OutboundMessage {
    /// The channel it goes on.
    pub channel: ChannelKind,
    /// The address: E.164 phone for SMS and WhatsApp, an email address for email.
    pub to: String,
    /// Why it is sent; decides which consent applies.
    pub purpose: Purpose,
    /// BCP 47 locale it is written in.
    pub locale: String,
    /// Subject line (email).
    pub subject: Option<String>,
    /// Plain text body.
    pub text: String,
    /// HTML body (email).
    pub html: Option<String>,
    /// Template to use when the channel requires one (WhatsApp outside the 24-hour window).
    pub template: Option<TemplateRef>,
    /// The shop it is sent for.
    pub shop: Option<ShopId>,
    /// The order it is about.
    pub order_id: Option<OrderId>,
    /// The customer it goes to.
    pub customer_id: Option<CustomerId>,
    /// Extra channel-specific data (`list_unsubscribe` URL, reply-to...).
    pub meta: BTreeMap<String, String>,
}

impl OutboundMessage {
    /// A plain text message; locale `en`, no subject, HTML or template.
    pub fn new(
        channel: ChannelKind,
        to: impl Into<String>,
        purpose: Purpose,
        text: impl Into<String>,
    ) -> Self {
        Self {
            channel,
            to: to.into(),
            purpose,
            locale: "en".into(),
            subject: None,
            text: text.into(),
            html: None,
            template: None,
            shop: None,
            order_id: None,
            customer_id: None,
            meta: BTreeMap::new(),
        }
    }
}

/// What a provider said when it accepted a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Receipt {
    /// The provider's id of the message (Twilio `SM...`, Meta `wamid...`, a Message-ID).
    pub provider_message_id: String,
    /// When the provider accepted it.
    pub accepted_at: DateTime<Utc>,
}

impl Receipt {
    /// A receipt with the provider's id and a time.
    pub fn new(provider_message_id: impl Into<String>, accepted_at: DateTime<Utc>) -> Self {
        Self {
            provider_message_id: provider_message_id.into(),
            accepted_at,
        }
    }
}

/// A delivery report from a provider (Twilio status callback, WhatsApp status).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Accepted, waiting to go out.
    Queued,
    /// Handed to the carrier or network.
    Sent,
    /// Reached the handset or mailbox.
    Delivered,
    /// Opened or read.
    Read,
    /// Could not be delivered, with the provider's error code.
    Failed {
        /// Provider error code.
        code: Option<String>,
    },
    /// A status no mapping knows, kept raw.
    Unknown(String),
    /// The receiving mail server refused it: `permanent` for a hard bounce (the address does
    /// not exist), else a soft one the provider gave up retrying.
    Bounced {
        /// Hard (`true`) or soft.
        permanent: bool,
        /// The provider's or server's code or reason.
        code: Option<String>,
    },
    /// The recipient reported it as spam.
    Complained,
}

/// A message a customer sent us (a reply).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct InboundMessage {
    /// The channel it came on.
    pub channel: ChannelKind,
    /// The sender's address (E.164 phone, email).
    pub from: String,
    /// Our address it was sent to.
    pub to: String,
    /// Text typed, or the title of a tapped button.
    pub text: String,
    /// The payload/id of a tapped button or list row, when it was one.
    pub button_payload: Option<String>,
    /// Provider's id of the message.
    pub provider_message_id: Option<String>,
    /// Provider's id of the message this replies to, when known.
    pub in_reply_to: Option<String>,
    /// When it was received.
    pub received_at: DateTime<Utc>,
}

impl InboundMessage {
    /// A typed reply; no button, ids or thread.
    pub fn new(
        channel: ChannelKind,
        from: impl Into<String>,
        to: impl Into<String>,
        text: impl Into<String>,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            channel,
            from: from.into(),
            to: to.into(),
            text: text.into(),
            button_payload: None,
            provider_message_id: None,
            in_reply_to: None,
            received_at,
        }
    }
}
