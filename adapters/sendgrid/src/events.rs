//! The Event Webhook (docs: twilio.com/docs/sendgrid/for-developers/tracking-events/event,
//! and "Getting started with the Event Webhook security features").
//!
//! A POST carries a JSON array of events. It is signed with ECDSA P-256 / SHA-256 over the
//! `X-Twilio-Email-Event-Webhook-Timestamp` header's text followed by the raw body, and the
//! DER signature travels base64 in `X-Twilio-Email-Event-Webhook-Signature`. The public key
//! is shown in the settings as base64 DER (`SubjectPublicKeyInfo`); PEM is accepted too.
//! The raw bytes are verified (events are separated by `\r\n`, which re-serialising loses).

use std::time::Duration;

use aftercare::Error;
use aftercare::flows::email::{EmailEvent, EmailEventKind};
use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, VerifiedWebhook, WebhookRequest, WebhookSource, body_hash_key,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use serde_json::Value;

use crate::SendGridError;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Email-Event-Webhook-Signature";
/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "X-Twilio-Email-Event-Webhook-Timestamp";
/// The custom argument carrying the outbox key (set by [`crate::SendGridChannel`]).
pub const KEY_ARG: &str = "aftercare_key";

/// The account's Event Webhook verification key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventWebhookKey(VerifyingKey);

impl EventWebhookKey {
    /// From the settings' text: base64 DER `SubjectPublicKeyInfo`, or PEM.
    pub fn parse(text: &str) -> Result<Self, SendGridError> {
        let t = text.trim();
        if t.starts_with("-----BEGIN") {
            return VerifyingKey::from_public_key_pem(t)
                .map(Self)
                .map_err(|_| SendGridError::BadKey);
        }
        let der = B64.decode(t).map_err(|_| SendGridError::BadKey)?;
        VerifyingKey::from_public_key_der(&der)
            .map(Self)
            .map_err(|_| SendGridError::BadKey)
    }

    /// Whether `signature_b64` (base64 DER) signs `timestamp` followed by `body`.
    pub fn verifies(&self, signature_b64: &str, timestamp: &str, body: &[u8]) -> bool {
        let Ok(der) = B64.decode(signature_b64.trim()) else {
            return false;
        };
        let Ok(sig) = Signature::from_der(&der) else {
            return false;
        };
        let mut msg = Vec::with_capacity(timestamp.len() + body.len());
        msg.extend_from_slice(timestamp.as_bytes());
        msg.extend_from_slice(body);
        self.0.verify(&msg, &sig).is_ok()
    }
}

/// The Event Webhook as a webhook source (inbox topic `events`).
#[derive(Clone, Debug)]
pub struct SendGridEvents {
    keys: Vec<EventWebhookKey>,
    tolerance: Duration,
    max_body: usize,
}

impl SendGridEvents {
    /// Verified with `key`. Timestamps more than 15 minutes away from arrival are refused
    /// (SendGrid documents no window; its retries are signed anew).
    pub fn new(key: EventWebhookKey) -> Self {
        Self {
            keys: vec![key],
            tolerance: Duration::from_secs(15 * 60),
            max_body: 4 * 1024 * 1024,
        }
    }

    /// Also accepts another key (several Event Webhooks, or a rotation).
    pub fn also(mut self, key: EventWebhookKey) -> Self {
        self.keys.push(key);
        self
    }

    /// The replay window.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }
}

impl WebhookSource for SendGridEvents {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.max_body {
            return Err(Rejection::TooLarge {
                limit: self.max_body,
                size: request.body.len(),
            });
        }
        let header = |name: &str| {
            request
                .headers
                .get_str(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| Rejection::MissingHeader {
                    header: name.to_owned(),
                })
        };
        let sig = header(SIGNATURE_HEADER)?;
        let ts = header(TIMESTAMP_HEADER)?;
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        if !self.keys.iter().any(|k| k.verifies(sig, ts, request.body)) {
            return Err(Rejection::Mismatch);
        }
        let t: i64 = ts.trim().parse().map_err(|_| Rejection::BadEncoding {
            header: TIMESTAMP_HEADER.to_owned(),
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
        // A batch has no id of its own; its events do (`sg_event_id`), and the body is the
        // same on a retry.
        let mut v = VerifiedWebhook::new(body_hash_key(request.body));
        v.topic = Some("events".into());
        v.occurred_at = DateTime::from_timestamp(t, 0);
        Ok(v)
    }

    /// Checks the body decodes; the events themselves are read with [`decode_events`].
    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode_events(&entry.body)?;
        Ok(vec![PlatformEvent::Unrecognized {
            topic: "events".into(),
        }])
    }
}

/// The events of a verified body. Each event needs `email`, `event` and `timestamp`; a
/// body that is not an array of such objects is a decode error.
pub fn decode_events(body: &[u8]) -> Result<Vec<EmailEvent>, Error> {
    let what = "a SendGrid Event Webhook batch";
    let v: Value = serde_json::from_slice(body).map_err(|e| Error::decode(what, e))?;
    let Value::Array(items) = v else {
        return Err(Error::decode(what, "it is not a JSON array"));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let (Some(email), Some(event), Some(ts)) = (
            item["email"].as_str(),
            item["event"].as_str(),
            item["timestamp"].as_i64(),
        ) else {
            return Err(Error::decode(
                what,
                "an event lacks `email`, `event` or a numeric `timestamp`",
            ));
        };
        let at = DateTime::<Utc>::from_timestamp(ts, 0)
            .ok_or_else(|| Error::decode(what, "an event's timestamp is out of range"))?;
        let kind = match event {
            "delivered" => EmailEventKind::Delivered,
            "open" => EmailEventKind::Opened,
            // `type` is `bounce` (the address or domain refused it) or `blocked` (refused
            // for now, e.g. reputation): the latter is soft.
            "bounce" => EmailEventKind::Bounced {
                permanent: item["type"].as_str() != Some("blocked"),
            },
            "dropped" => EmailEventKind::Dropped,
            "spamreport" => EmailEventKind::Complained,
            "unsubscribe" | "group_unsubscribe" => EmailEventKind::Unsubscribed,
            other => EmailEventKind::Other(other.to_owned()),
        };
        let mut e = EmailEvent::new("sendgrid", kind, email, at);
        // `sg_message_id` is the `X-Message-Id` of the send, then `.filter…`.
        e.provider_message_id = item["sg_message_id"]
            .as_str()
            .and_then(|m| m.split('.').next())
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        e.key = item[KEY_ARG].as_str().map(str::to_owned);
        e.reason = item["reason"]
            .as_str()
            .or(item["response"].as_str())
            .or(item["status"].as_str())
            .map(str::to_owned);
        out.push(e);
    }
    Ok(out)
}
