//! # aftercare-mailgun
//!
//! Mailgun for [Aftercare](aftercare):
//!
//! - [`MailgunEvents`]: event webhooks (documentation.mailgun.com, "Securing webhooks"):
//!   a JSON body `{"signature": {"timestamp", "token", "signature"}, "event-data": {...}}`;
//!   the signature is hex HMAC-SHA256 of `timestamp` followed by `token`, keyed with the
//!   **HTTP webhook signing key** (not the API key). Verified in constant time, timestamps
//!   outside the window refused, the token remembered by the inbox's de-duplication (the
//!   de-duplication key is the token, so a replayed request is not stored twice).
//!   [`decode_events`] maps `delivered`, `failed` (`severity` permanent / temporary),
//!   `complained`, `opened`, `unsubscribed` to [`EmailEvent`]s.
//! - [`MailgunInbound`]: a route's `forward()` POST (form-encoded or multipart) carrying
//!   the same `timestamp`, `token`, `signature` at the top level; [`decode_inbound`] makes
//!   it an [`InboundMessage`] from `sender`, `recipient` and `body-plain` with the quoted
//!   history removed ([`visible_reply`]; Mailgun's own `stripped-text` is not trusted to
//!   know every language).
//!
//! Answers: a refused signature is `401`; Mailgun retries any code except `200` and `406`
//! for hours, so a storage failure (`503`) is retried.

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use aftercare::Error;
use aftercare::email_reply::visible_reply;
use aftercare::flows::email::{EmailEvent, EmailEventKind};
use aftercare::model::{ChannelKind, InboundMessage, PlatformEvent};
use aftercare::store::InboxEntry;
use aftercare::webhook::{Rejection, Secret, VerifiedWebhook, WebhookRequest, WebhookSource};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The `user-variables` entry carrying the outbox key (`v:aftercare_key` when sending).
pub const KEY_VAR: &str = "aftercare_key";
/// The inbox meta key keeping the request's `Content-Type`.
pub const CONTENT_TYPE_META: &str = "content-type";

/// What went wrong setting up the Mailgun adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MailgunError {
    /// The signing key is empty.
    #[error(
        "the Mailgun HTTP webhook signing key is empty; copy it from Sending > Webhooks (it is not the API key)"
    )]
    MissingKey,
}

/// Whether `signature_hex` is HMAC-SHA256(`key`, `timestamp` + `token`), in constant time.
pub fn verifies(key: &Secret, timestamp: &str, token: &str, signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose()) else {
        return false;
    };
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// Signs like Mailgun (for tests and the sandbox).
pub fn sign(key: &Secret, timestamp: &str, token: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Clone, Debug)]
struct Check {
    key: Secret,
    tolerance: Duration,
    max_body: usize,
}

impl Check {
    fn new(key: Secret) -> Result<Self, MailgunError> {
        if key.is_empty() {
            return Err(MailgunError::MissingKey);
        }
        Ok(Self {
            key,
            tolerance: Duration::from_secs(15 * 60),
            max_body: 30 * 1024 * 1024,
        })
    }

    fn run(
        &self,
        request: &WebhookRequest<'_>,
        ts: Option<&str>,
        token: Option<&str>,
        sig: Option<&str>,
    ) -> Result<VerifiedWebhook, Rejection> {
        let need = |v: Option<&str>, name: &str| {
            v.filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
                .ok_or_else(|| Rejection::MissingHeader {
                    header: format!("signature.{name}"),
                })
        };
        let (ts, token, sig) = (
            need(ts, "timestamp")?,
            need(token, "token")?,
            need(sig, "signature")?,
        );
        if !verifies(&self.key, &ts, &token, &sig) {
            return Err(Rejection::Mismatch);
        }
        let t: i64 = ts.trim().parse().map_err(|_| Rejection::BadEncoding {
            header: "signature.timestamp".into(),
            expected: "an integer",
        })?;
        let skew = (request.received_at.timestamp() - t).abs();
        if skew.unsigned_abs() > self.tolerance.as_secs() {
            return Err(Rejection::Stale {
                timestamp: t,
                skew_secs: skew,
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        // The token is random per request: a replay is the same token, de-duplicated.
        let mut v = VerifiedWebhook::new(format!("token:{token}"));
        v.occurred_at = DateTime::from_timestamp(t, 0);
        Ok(v)
    }
}

/// Mailgun's event webhooks as a source (inbox topic `events`).
#[derive(Clone, Debug)]
pub struct MailgunEvents(Check);

impl MailgunEvents {
    /// Verified with the HTTP webhook signing key.
    pub fn new(signing_key: Secret) -> Result<Self, MailgunError> {
        Check::new(signing_key).map(Self)
    }

    /// The replay window (default 15 minutes).
    pub fn tolerance(mut self, t: Duration) -> Self {
        self.0.tolerance = t;
        self
    }
}

impl WebhookSource for MailgunEvents {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.0.max_body {
            return Err(Rejection::TooLarge {
                limit: self.0.max_body,
                size: request.body.len(),
            });
        }
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        // The signature is inside the body: it is parsed as JSON to find it, and nothing
        // else is read before it is verified.
        let v: Value =
            serde_json::from_slice(request.body).map_err(|_| Rejection::BadEncoding {
                header: "body".into(),
                expected: "JSON",
            })?;
        let s = &v["signature"];
        let mut out = self.0.run(
            request,
            s["timestamp"].as_str(),
            s["token"].as_str(),
            s["signature"].as_str(),
        )?;
        out.topic = Some("events".into());
        Ok(out)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode_events(&entry.body)?;
        Ok(vec![PlatformEvent::Unrecognized {
            topic: "events".into(),
        }])
    }
}

/// The event of a verified body (one per request).
pub fn decode_events(body: &[u8]) -> Result<Vec<EmailEvent>, Error> {
    let what = "a Mailgun event webhook";
    let v: Value = serde_json::from_slice(body).map_err(|e| Error::decode(what, e))?;
    let d = &v["event-data"];
    let (Some(event), Some(recipient), Some(ts)) = (
        d["event"].as_str(),
        d["recipient"].as_str(),
        d["timestamp"].as_f64(),
    ) else {
        return Err(Error::decode(
            what,
            "`event-data` lacks `event`, `recipient` or a numeric `timestamp`",
        ));
    };
    #[allow(clippy::cast_possible_truncation)]
    let at = DateTime::<Utc>::from_timestamp(ts.trunc() as i64, 0)
        .ok_or_else(|| Error::decode(what, "the timestamp is out of range"))?;
    let kind = match event {
        "delivered" => EmailEventKind::Delivered,
        "opened" => EmailEventKind::Opened,
        "complained" => EmailEventKind::Complained,
        "unsubscribed" => EmailEventKind::Unsubscribed,
        // `failed` with `severity` permanent (a hard bounce, or suppressed) or temporary
        // (Mailgun retries; only its final give-up matters, which is permanent too).
        "failed" if d["severity"].as_str() == Some("permanent") => {
            if d["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("suppress"))
            {
                EmailEventKind::Dropped
            } else {
                EmailEventKind::Bounced { permanent: true }
            }
        }
        "failed" => EmailEventKind::Other("failed-temporary".into()),
        other => EmailEventKind::Other(other.to_owned()),
    };
    let mut e = EmailEvent::new("mailgun", kind, recipient, at);
    e.provider_message_id = d["message"]["headers"]["message-id"]
        .as_str()
        .map(|m| m.trim_matches(|c| c == '<' || c == '>').to_owned());
    e.key = d["user-variables"][KEY_VAR].as_str().map(str::to_owned);
    e.reason = d["delivery-status"]["description"]
        .as_str()
        .filter(|s| !s.is_empty())
        .or(d["delivery-status"]["message"].as_str())
        .or(d["reason"].as_str())
        .map(str::to_owned);
    Ok(vec![e])
}

/// A route's `forward()` POSTs as a source (inbox topic `inbound`).
#[derive(Clone, Debug)]
pub struct MailgunInbound(Check);

impl MailgunInbound {
    /// Verified with the HTTP webhook signing key.
    pub fn new(signing_key: Secret) -> Result<Self, MailgunError> {
        Check::new(signing_key).map(Self)
    }
}

impl WebhookSource for MailgunInbound {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.0.max_body {
            return Err(Rejection::TooLarge {
                limit: self.0.max_body,
                size: request.body.len(),
            });
        }
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        let ct = request.headers.get_str("content-type").unwrap_or("");
        let fields = form_fields(ct, request.body);
        let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        let mut v = self
            .0
            .run(request, get("timestamp"), get("token"), get("signature"))?;
        v.topic = Some("inbound".into());
        v.meta.insert(CONTENT_TYPE_META.into(), ct.to_owned());
        Ok(v)
    }

    fn max_body_bytes(&self) -> usize {
        self.0.max_body
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode_inbound(entry)?;
        Ok(vec![PlatformEvent::Unrecognized {
            topic: "inbound".into(),
        }])
    }
}

/// The customer's reply in a stored route POST.
pub fn decode_inbound(entry: &InboxEntry) -> Result<InboundMessage, Error> {
    let what = "a Mailgun route POST";
    let ct = entry
        .meta
        .get(CONTENT_TYPE_META)
        .map(String::as_str)
        .unwrap_or("");
    let fields = form_fields(ct, &entry.body);
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let from = get("sender")
        .filter(|s| s.contains('@'))
        .ok_or_else(|| Error::decode(what, "it has no `sender`"))?;
    let text = get("body-plain").ok_or_else(|| Error::decode(what, "it has no `body-plain`"))?;
    let mut text = visible_reply(text);
    if text.is_empty() {
        text = get("subject").unwrap_or("").trim().to_owned();
    }
    let mut m = InboundMessage::new(
        ChannelKind::Email,
        from,
        get("recipient").unwrap_or(""),
        text,
        entry.received_at,
    );
    m.provider_message_id = get("Message-Id").map(str::to_owned);
    m.in_reply_to = get("In-Reply-To").map(str::to_owned);
    Ok(m)
}

/// The text fields of a form-encoded or multipart body.
pub fn form_fields(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    if content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return multipart(content_type, body);
    }
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn multipart(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let Some(boundary) = content_type.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    }) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for part in text.split(&format!("--{boundary}")).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        if head.contains("filename=") {
            continue;
        }
        let Some(name) = head.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            (k.trim() == "name").then(|| v.trim().trim_matches('"').to_owned())
        }) else {
            continue;
        };
        out.push((name, value.strip_suffix("\r\n").unwrap_or(value).to_owned()));
    }
    out
}
