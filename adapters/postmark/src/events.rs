//! The outbound webhooks (postmarkapp.com/developer/webhooks/delivery-webhook,
//! `.../bounce-webhook`, `.../spam-complaint-webhook`, `.../open-tracking-webhook`,
//! `.../subscription-change-webhook`): one JSON object per POST with `RecordType`,
//! `MessageID`, `MessageStream` and `Metadata`.
//!
//! | `RecordType` | event |
//! |---|---|
//! | `Delivery` | delivered (`Recipient`, `DeliveredAt`) |
//! | `Bounce` | by `Type`: `HardBounce`, `BadEmailAddress`, `ManuallyDeactivated` (or any bounce with `Inactive: true`, after which Postmark will not send to the address) = hard; `Transient`, `SoftBounce`, `DnsError`, `Blocked`, `DMARCPolicy`, `Unknown`, `SMTPApiError` = soft; `SpamComplaint` = complaint; `Unsubscribe` = unsubscribe; auto-replies, challenges and other notifications change nothing |
//! | `SpamComplaint` | complaint (`Email`, `BouncedAt`) |
//! | `Open` | opened (`Recipient`, `ReceivedAt`) |
//! | `SubscriptionChange` | unsubscribe when `SuppressSending` is true |
//! | `Click`, others | nothing |
//!
//! The bounce types are the `Type` strings of Postmark's client (`postmark` npm,
//! `models/bounces/Bounce.d.ts`); the string is read, not `TypeCode` (Postmark's own agent
//! guidance gives two codes that its SDK contradicts).

use aftercare::Error;
use aftercare::flows::email::{EmailEvent, EmailEventKind};
use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Secret, VerifiedWebhook, WebhookRequest, WebhookSource, body_hash_key,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{BasicAuth, KEY_META, PostmarkError};

/// The header Postmark keeps across retries of one webhook call.
pub const TRACE_HEADER: &str = "X-PM-Webhook-Trace-Id";

/// The outbound webhooks as a source (inbox topic = the `RecordType`).
#[derive(Clone, Debug)]
pub struct PostmarkEvents {
    auth: BasicAuth,
    max_body: usize,
}

impl PostmarkEvents {
    /// Requests must present these Basic credentials (put them in the webhook URL).
    pub fn new(user: impl Into<String>, password: Secret) -> Result<Self, PostmarkError> {
        Ok(Self {
            auth: BasicAuth::new(user, password)?,
            // A bounce with `IncludeContent` carries the bounced message's source.
            max_body: 10 * 1024 * 1024,
        })
    }
}

impl WebhookSource for PostmarkEvents {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.max_body {
            return Err(Rejection::TooLarge {
                limit: self.max_body,
                size: request.body.len(),
            });
        }
        if !self.auth.check(request) {
            return Err(Rejection::Mismatch);
        }
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        let v: Value =
            serde_json::from_slice(request.body).map_err(|_| Rejection::BadEncoding {
                header: "body".into(),
                expected: "a Postmark webhook JSON object",
            })?;
        let record = v["RecordType"]
            .as_str()
            .ok_or_else(|| Rejection::MissingHeader {
                header: "RecordType".into(),
            })?;
        // The trace id is the same on every retry of one call; without it, the body is.
        let key = match request
            .headers
            .get_str(TRACE_HEADER)
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
        {
            Some(t) => format!("pm-trace:{t}"),
            None => body_hash_key(request.body),
        };
        let mut out = VerifiedWebhook::new(key);
        out.topic = Some(record.to_owned());
        Ok(out)
    }

    fn max_body_bytes(&self) -> usize {
        self.max_body
    }

    /// Checks the body decodes; the events are read with [`decode_events`].
    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode_events(&entry.body)?;
        Ok(vec![PlatformEvent::Unrecognized {
            topic: entry.topic.clone().unwrap_or_else(|| "events".into()),
        }])
    }
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// What a bounce's `Type` means here (`None`: a notification that changes nothing).
pub fn bounce_kind(kind: &str, inactive: bool) -> Option<EmailEventKind> {
    Some(match kind {
        "SpamComplaint" => EmailEventKind::Complained,
        "Unsubscribe" => EmailEventKind::Unsubscribed,
        "HardBounce" | "BadEmailAddress" | "ManuallyDeactivated" => {
            EmailEventKind::Bounced { permanent: true }
        }
        "Transient" | "SoftBounce" | "DnsError" | "Blocked" | "DMARCPolicy" | "Unknown"
        | "SMTPApiError" => EmailEventKind::Bounced {
            permanent: inactive,
        },
        // Auto-responders, address changes, challenges, virus/spam notifications, relay
        // tests, subscribe requests, inbound and template errors: not about delivery.
        _ if inactive => EmailEventKind::Bounced { permanent: true },
        _ => return None,
    })
}

/// The event of a verified body (one per request; none for a record that changes
/// nothing). A body without `RecordType`, or an event without its address, is a decode
/// error.
pub fn decode_events(body: &[u8]) -> Result<Vec<EmailEvent>, Error> {
    let what = "a Postmark webhook";
    let v: Value = serde_json::from_slice(body).map_err(|e| Error::decode(what, e))?;
    let record = v["RecordType"]
        .as_str()
        .ok_or_else(|| Error::decode(what, "it has no `RecordType`"))?;
    let (kind, address, at, reason) = match record {
        "Delivery" => (
            Some(EmailEventKind::Delivered),
            &v["Recipient"],
            &v["DeliveredAt"],
            v["Details"].as_str(),
        ),
        "Bounce" => (
            bounce_kind(
                v["Type"].as_str().unwrap_or(""),
                v["Inactive"].as_bool().unwrap_or(false),
            ),
            &v["Email"],
            &v["BouncedAt"],
            v["Details"].as_str().or(v["Description"].as_str()),
        ),
        "SpamComplaint" => (
            Some(EmailEventKind::Complained),
            &v["Email"],
            &v["BouncedAt"],
            v["Type"].as_str(),
        ),
        "Open" => (
            Some(EmailEventKind::Opened),
            &v["Recipient"],
            &v["ReceivedAt"],
            None,
        ),
        "SubscriptionChange" => (
            Some(if v["SuppressSending"].as_bool() == Some(true) {
                EmailEventKind::Unsubscribed
            } else {
                EmailEventKind::Other("SubscriptionChange".into())
            }),
            &v["Recipient"],
            &v["ChangedAt"],
            v["SuppressionReason"].as_str(),
        ),
        other => (
            Some(EmailEventKind::Other(other.to_owned())),
            &v["Recipient"],
            &v["ReceivedAt"],
            None,
        ),
    };
    let Some(kind) = kind else {
        return Ok(Vec::new());
    };
    let address = address
        .as_str()
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| Error::decode(what, "the event names no recipient"))?;
    let mut e = EmailEvent::new(
        "postmark",
        kind,
        address.trim(),
        time(at).unwrap_or_default(),
    );
    e.provider_message_id = v["MessageID"]
        .as_str()
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    e.key = v["Metadata"][KEY_META].as_str().map(str::to_owned);
    e.reason = reason.filter(|r| !r.is_empty()).map(str::to_owned);
    Ok(vec![e])
}
