//! Verified webhooks: signature schemes, the [`WebhookSource`] trait adapters implement, and
//! the sdk's own [`NativeSource`].
//!
//! The path of a webhook is: raw bytes → [`WebhookSource::verify`] (constant time, on the
//! raw body, before any parsing) → the [`Inbox`](crate::store::Inbox), de-duplicated →
//! acknowledge. Decoding into [`PlatformEvent`]s happens later, when the
//! [`InboxProcessor`](crate::inbox::InboxProcessor) takes the entry from the inbox.

mod headers;
mod native;
mod secret;
mod verify;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

pub use headers::RawHeaders;
pub use native::NativeSource;
pub use secret::{Secret, SecretError};
pub use verify::{
    DEFAULT_MAX_BODY_BYTES, DEFAULT_TOLERANCE, Rejection, Scheme, Verification, Verifier,
};

use crate::Error;
use crate::model::PlatformEvent;
use crate::store::InboxEntry;

/// The pseudo-header under which [`WebhookRoutes`](crate::http::WebhookRoutes) passes the
/// request URL's raw query string to [`WebhookSource::verify`], for senders that
/// authenticate with a token in the URL (Shippo's `?token=`). A real header cannot carry this
/// name (`:` is not allowed in HTTP/1 header names).
pub const QUERY_PSEUDO_HEADER: &str = ":query";

/// A raw webhook request as it arrived: headers and the exact body bytes.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct WebhookRequest<'a> {
    /// The request headers.
    pub headers: &'a RawHeaders,
    /// The raw body, unparsed.
    pub body: &'a [u8],
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

impl<'a> WebhookRequest<'a> {
    /// A request: its headers, its exact body, when it arrived.
    pub fn new(headers: &'a RawHeaders, body: &'a [u8], received_at: DateTime<Utc>) -> Self {
        Self {
            headers,
            body,
            received_at,
        }
    }
}

/// What a source learnt from a verified request, stored with the body in the inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedWebhook {
    /// The key that identifies this event across retries: the platform's event or delivery
    /// id, or [`body_hash_key`] when it sends none.
    pub dedupe_key: String,
    /// The platform's topic (`orders/fulfilled`), when it says.
    pub topic: Option<String>,
    /// The shop it is from, when it says.
    pub shop: Option<String>,
    /// When the platform says the event happened.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Other non-secret headers the decoder needs later (API version...).
    pub meta: BTreeMap<String, String>,
}

impl VerifiedWebhook {
    /// A verified webhook with a de-duplication key and nothing else.
    pub fn new(dedupe_key: impl Into<String>) -> Self {
        Self {
            dedupe_key: dedupe_key.into(),
            topic: None,
            shop: None,
            occurred_at: None,
            meta: BTreeMap::new(),
        }
    }
}

/// The de-duplication key for senders that give no id: `sha256:` + hex SHA-256 of the body.
///
/// ```
/// let k = aftercare::webhook::body_hash_key(b"body");
/// assert_eq!(k, "sha256:230d8358dc8e8890b4c58deeb62912ee2f20357ae92a5cc861b98e68fe31acb5");
/// ```
pub fn body_hash_key(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

/// A sender of webhooks: a shop platform, a messaging provider. Adapters implement it.
///
/// `verify` runs on the request path and must be fast and side-effect free; `decode` runs
/// later from the inbox.
pub trait WebhookSource: Send + Sync {
    /// Verifies a raw request. Must check the signature on the raw bytes, in constant time,
    /// before parsing anything.
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection>;

    /// Decodes a stored webhook into events. An unknown topic decodes to
    /// [`PlatformEvent::Unrecognized`], not an error; malformed data is an
    /// [`Error::Decode`], which dead-letters the entry.
    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error>;

    /// The largest body this source accepts; the HTTP layer stops reading past it.
    fn max_body_bytes(&self) -> usize {
        DEFAULT_MAX_BODY_BYTES
    }

    /// The body of the `200` that acknowledges a stored webhook, as `(content type, body)`;
    /// `None` (the default) answers with a small JSON status. A sender that reads the answer
    /// overrides it (Twilio expects TwiML: an empty `<Response/>` sends no reply).
    fn acknowledgement(&self) -> Option<(&'static str, &'static str)> {
        None
    }

    /// Answers a GET subscription handshake on the webhook's own URL, given the request's raw
    /// query string: `Some(Ok(body))` is answered `200` with `body` as plain text (Meta's
    /// `hub.challenge`), `Some(Err(_))` `403`. `None` (the default): this source has no
    /// handshake, and a GET is answered `405`.
    fn handshake(&self, query: &str) -> Option<Result<String, Rejection>> {
        let _ = query;
        None
    }

    /// Answers a POST that is the sender's own check of the URL rather than a webhook to
    /// store, before [`WebhookSource::verify`]: WooCommerce POSTs an unsigned
    /// `webhook_id=<id>` when a webhook is saved and wants a `200`, and a source cannot
    /// acknowledge it through `verify` without the router storing it. `Some(Ok(body))` is
    /// answered `200` with `body` as plain text and nothing is stored; `Some(Err(_))` is
    /// refused with the rejection's status. `None` (the default): the request is verified
    /// and stored as usual. It runs on unverified bytes, so it must recognise only requests
    /// that carry nothing to act on, and never parse more than it needs for that.
    fn preflight(&self, request: &WebhookRequest<'_>) -> Option<Result<String, Rejection>> {
        let _ = request;
        None
    }
}
