//! Support desks (Zendesk, Freshdesk, Gorgias...): the [`Helpdesk`] trait adapters
//! implement, and the ticket types. The rules (when a ticket is opened, what goes into it,
//! that an incident opens one ticket at most) live in
//! [`flows::tickets`](crate::flows::tickets).
//!
//! None of the three desks has an idempotency key on ticket creation. The trait therefore
//! has [`Helpdesk::find_ticket`] by an external id that the flow chooses (one per shop and
//! order), and every ticket carries *marker tags*: a short tag per incident, written
//! together with the ticket or note that incident produced, so that after a crash the flow
//! sees on the ticket itself whether its work was done.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Error;

/// How a desk answered a call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HelpdeskError {
    /// Over the desk's rate limit (`429`) even after the adapter waited as told; try later.
    #[error("rate limited by the helpdesk (retry after {retry_after_secs:?} s)")]
    RateLimited {
        /// The desk's `Retry-After`, in seconds, when it sent one.
        retry_after_secs: Option<u64>,
    },
    /// A failure that may pass (5xx, network, timeout).
    #[error("the helpdesk failed ({0}); it will be tried again")]
    Transient(String),
    /// The ticket cannot take more (Zendesk `closed` tickets cannot be updated).
    #[error("ticket {0} is closed and cannot be updated")]
    Closed(String),
    /// Refused for good (bad credentials, invalid request); fix the configuration.
    #[error("the helpdesk refused the request (HTTP {status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The desk's own text.
        message: String,
    },
}

impl HelpdeskError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            HelpdeskError::RateLimited { .. } | HelpdeskError::Transient(_)
        )
    }
}

impl From<HelpdeskError> for Error {
    fn from(e: HelpdeskError) -> Self {
        let retryable = e.is_retryable();
        let status = match &e {
            HelpdeskError::RateLimited { .. } => Some(429),
            HelpdeskError::Refused { status, .. } => Some(*status),
            _ => None,
        };
        Error::Platform {
            operation: "update the helpdesk".into(),
            status,
            message: e.to_string(),
            retryable,
        }
    }
}

/// A ticket's state, on the desks' common ground.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TicketStatus {
    /// New, open, pending or on hold: being worked on.
    Open,
    /// Solved or resolved: a new note reopens it.
    Solved,
    /// Closed for good (Zendesk `closed`): it cannot be updated.
    Closed,
    /// A status no mapping knows, kept raw.
    Other(String),
}

/// A ticket as the desk has it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ticket {
    /// The desk's id (decimal text for numeric ids).
    pub id: String,
    /// The external id it was created with.
    pub external_id: Option<String>,
    /// Its state.
    pub status: TicketStatus,
    /// Its tags (marker tags included).
    pub tags: Vec<String>,
}

impl Ticket {
    /// A ticket with an id and status, without tags.
    pub fn new(id: impl Into<String>, status: TicketStatus) -> Self {
        Self {
            id: id.into(),
            external_id: None,
            status,
            tags: Vec::new(),
        }
    }
}

/// Who the ticket is for: the customer, by email or phone.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Requester {
    /// Display name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// E.164 phone number.
    pub phone: Option<String>,
    /// BCP 47 locale (`ar`, `tr-TR`): the desk answers in it.
    pub locale: Option<String>,
}

impl std::fmt::Debug for Requester {
    // Personal data stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requester")
            .field("email", &self.email.as_ref().map(|_| "***"))
            .field("phone", &self.phone.as_ref().map(|_| "***"))
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

/// The order a ticket is about.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OrderContext {
    /// The platform's order id.
    pub order_id: String,
    /// The number customers see (`#1001`).
    pub order_number: Option<String>,
    /// Product names.
    pub products: Vec<String>,
    /// The carrier.
    pub carrier: Option<String>,
    /// The first delivery estimate.
    pub estimated_delivery: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl OrderContext {
    /// The context of an order known only by its id.
    pub fn new(order_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            ..Self::default()
        }
    }

    /// Whole days the delivery came after its first estimate (`None` when either is
    /// unknown or it came in time).
    pub fn days_late(&self) -> Option<i64> {
        let (Some(est), Some(at)) = (self.estimated_delivery, self.delivered_at) else {
            return None;
        };
        let late = (at - est).num_hours();
        (late > 0).then(|| (late + 23) / 24)
    }
}

/// A ticket to open. Its first comment ([`NewTicket::body`]) is an **internal note**: a
/// ticket opened by Aftercare never writes to the customer by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewTicket {
    /// The id this ticket is found by (one per shop and order).
    pub external_id: String,
    /// Subject line.
    pub subject: String,
    /// The first, internal, comment.
    pub body: String,
    /// The customer.
    pub requester: Requester,
    /// Tags, marker tags included.
    pub tags: Vec<String>,
    /// The order.
    pub order: OrderContext,
    /// `high` for detractors and complaints, else `normal`.
    pub urgent: bool,
}

impl NewTicket {
    /// A ticket about `order`, without tags, of normal priority.
    pub fn new(
        external_id: impl Into<String>,
        subject: impl Into<String>,
        body: impl Into<String>,
        requester: Requester,
        order: OrderContext,
    ) -> Self {
        Self {
            external_id: external_id.into(),
            subject: subject.into(),
            body: body.into(),
            requester,
            tags: Vec::new(),
            order,
            urgent: false,
        }
    }
}

/// An internal note to add to a ticket, with the tags that go with it (marker included).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Note {
    /// The note's text; never shown to the customer.
    pub body: String,
    /// Tags to add with it.
    pub tags: Vec<String>,
}

impl Note {
    /// A note with tags.
    pub fn new(body: impl Into<String>, tags: Vec<String>) -> Self {
        Self {
            body: body.into(),
            tags,
        }
    }
}

/// A support desk. Implementations retry `429` and `5xx` themselves a few times, honouring
/// `Retry-After`, and then return [`HelpdeskError::RateLimited`] / `Transient`, which the
/// inbox retries later.
#[async_trait]
pub trait Helpdesk: Send + Sync {
    /// The desk's name for the ledger (`zendesk`).
    fn name(&self) -> &'static str;

    /// The most recent ticket created with `external_id`, if any.
    async fn find_ticket(&self, external_id: &str) -> Result<Option<Ticket>, HelpdeskError>;

    /// One ticket by its id.
    async fn ticket(&self, id: &str) -> Result<Option<Ticket>, HelpdeskError>;

    /// Opens a ticket with its requester, tags and first internal note.
    async fn create_ticket(&self, ticket: &NewTicket) -> Result<Ticket, HelpdeskError>;

    /// Adds an internal note and its tags (in one request where the desk allows it, so the
    /// marker tag and the note are written together).
    async fn add_note(&self, ticket: &Ticket, note: &Note) -> Result<(), HelpdeskError>;
}

/// The marker tag of an incident: `aftercare_` and eight hex digits of its key's SHA-256
/// (lowercase letters, digits and `_`, which every desk accepts as a tag).
pub fn marker_tag(incident_key: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(incident_key.as_bytes());
    format!("aftercare_{}", hex::encode(&d[..4]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn marker_tags_differ_per_incident_and_are_stable() {
        let a = marker_tag("survey:o1:nps");
        assert_eq!(a, marker_tag("survey:o1:nps"));
        assert_ne!(a, marker_tag("survey:o2:nps"));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
    }

    #[test]
    fn lateness_rounds_up_to_whole_days() {
        let est = DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut o = OrderContext {
            estimated_delivery: Some(est),
            delivered_at: Some(est + chrono::Duration::hours(25)),
            ..OrderContext::default()
        };
        assert_eq!(o.days_late(), Some(2));
        o.delivered_at = Some(est - chrono::Duration::hours(3));
        assert_eq!(o.days_late(), None);
    }

    #[test]
    fn requester_debug_hides_addresses() {
        let r = Requester {
            email: Some("ayse@example.com".into()),
            ..Requester::default()
        };
        assert!(!format!("{r:?}").contains("ayse"));
    }
}
