use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ChannelKind, CustomerId};

/// Why a message is sent; consent is given or refused per purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Purpose {
    /// Service messages about an order: tracking links, delivery milestones.
    Transactional,
    /// Satisfaction surveys and their reminders.
    Feedback,
    /// Promotions, review and referral requests.
    Marketing,
}

impl Purpose {
    /// Stable text form used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Transactional => "transactional",
            Purpose::Feedback => "feedback",
            Purpose::Marketing => "marketing",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "transactional" => Purpose::Transactional,
            "feedback" => Purpose::Feedback,
            "marketing" => Purpose::Marketing,
            _ => return None,
        })
    }
}

/// Whether a customer agreed to be contacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConsentState {
    /// The customer said yes.
    Granted,
    /// The customer said no or opted out.
    Denied,
    /// Nobody asked, or the platform does not say.
    Unknown,
}

impl ConsentState {
    /// Stable text form used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::Granted => "granted",
            ConsentState::Denied => "denied",
            ConsentState::Unknown => "unknown",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "granted" => ConsentState::Granted,
            "denied" => ConsentState::Denied,
            "unknown" => ConsentState::Unknown,
            _ => return None,
        })
    }
}

/// Consent for one purpose on one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Consent {
    /// What the consent is for.
    pub purpose: Purpose,
    /// On which channel.
    pub channel: ChannelKind,
    /// Yes, no or unknown.
    pub state: ConsentState,
    /// When it was given or withdrawn.
    pub updated_at: Option<DateTime<Utc>>,
    /// Where it came from (`checkout`, `reply:STOP`, `shopify`...).
    pub source: Option<String>,
}

impl Consent {
    /// Consent for a purpose and channel.
    pub fn new(purpose: Purpose, channel: ChannelKind, state: ConsentState) -> Self {
        Self {
            purpose,
            channel,
            state,
            updated_at: None,
            source: None,
        }
    }
}

/// A customer as Aftercare needs them.
///
/// ```
/// use aftercare::model::{Customer, Consent, ConsentState, ChannelKind, Purpose};
/// let mut c = Customer::new("207119551");
/// c.consents.push(Consent::new(Purpose::Feedback, ChannelKind::Sms, ConsentState::Denied));
/// assert_eq!(c.consent(Purpose::Feedback, ChannelKind::Sms), ConsentState::Denied);
/// assert_eq!(c.consent(Purpose::Feedback, ChannelKind::Email), ConsentState::Unknown);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Customer {
    /// The platform's id.
    pub id: CustomerId,
    /// First name, used to greet.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number, E.164.
    pub phone: Option<String>,
    /// BCP 47 locale tag.
    pub locale: Option<String>,
    /// IANA time zone (`Europe/Istanbul`), when known.
    pub time_zone: Option<String>,
    /// Consent per purpose and channel.
    pub consents: Vec<Consent>,
    /// When the record last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Customer {
    /// A customer with only an id.
    pub fn new(id: impl Into<CustomerId>) -> Self {
        Self {
            id: id.into(),
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            locale: None,
            time_zone: None,
            consents: Vec::new(),
            updated_at: None,
        }
    }

    /// The consent recorded for a purpose and channel (the last one wins), or `Unknown`.
    pub fn consent(&self, purpose: Purpose, channel: ChannelKind) -> ConsentState {
        self.consents
            .iter()
            .rev()
            .find(|c| c.purpose == purpose && c.channel == channel)
            .map_or(ConsentState::Unknown, |c| c.state)
    }
}
