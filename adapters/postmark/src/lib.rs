//! # aftercare-postmark
//!
//! Postmark for [Aftercare](aftercare), one crate for its three surfaces:
//!
//! - [`events`]: the outbound webhooks (`Delivery`, `Bounce`, `SpamComplaint`, and
//!   optionally `Open`, `SubscriptionChange`) as a [`WebhookSource`](aftercare::webhook::WebhookSource),
//!   decoded into [`EmailEvent`](aftercare::flows::email::EmailEvent)s for the sdk's
//!   [`EmailEvents`](aftercare::flows::email::EmailEvents) (ledger, suppression, next
//!   channel).
//! - [`inbound`]: the inbound webhook (customers' email replies, JSON) decoded into
//!   [`InboundMessage`](aftercare::model::InboundMessage)s with quoted history removed.
//! - [`send`]: [`PostmarkChannel`], email through `POST /email` with the
//!   `X-Postmark-Server-Token` header; Postmark's `MessageID` is the receipt, which every
//!   webhook payload echoes, and the outbox key travels in `Metadata`.
//!
//! ## What protects the webhooks, and what does not
//!
//! Postmark **does not sign** its webhooks (postmarkapp.com/developer/webhooks/webhooks-overview,
//! "Protecting your webhook"). It documents two protections: HTTP Basic credentials in the
//! webhook URL (`https://<user>:<password>@host/webhooks/postmark`), and a firewall that
//! only lets Postmark's webhook IPs through (listed on its support site; "the origin IP
//! address can change for each attempt"). This crate checks the first: every request must
//! present the configured Basic credentials, compared in constant time ([`BasicAuth`]);
//! a source cannot be built without a password. The IP list is the deployment's firewall's
//! job: it is published and changes, so it is not hard-coded here.
//!
//! What this does **not** give: the body is not bound to Postmark. Anyone who learns the
//! URL's credentials (from a log of the webhook settings, a proxy that logs URLs, Postmark's
//! dashboard) can post any event until the password is rotated, and nothing detects a
//! body altered by a TLS-terminating middlebox. Use HTTPS, a long random password (the
//! config check asks for 24 characters at least), an IP allow-list where possible, and
//! rotate the password if it may have leaked. A forged hard bounce can at most suppress
//! an address and try the next channel; a forged reply is handled like any customer reply.
//!
//! ## Answers and Postmark's retries
//!
//! Outbound webhooks: Postmark retries only `5xx`, `408`, `429` and timeouts, and drops an
//! event on any other `4xx` at the first attempt. Inbound: any non-`200` is retried (ten
//! times over ~10.5 h) except `403`, which stops at once. So refused credentials answer
//! `401` (a forged event is dropped), and a storage failure answers `503` (retried, never a
//! `4xx`): the sdk's webhook route does this for every source.

#![cfg_attr(docsrs, feature(doc_cfg))]

use aftercare::webhook::{Secret, WebhookRequest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use subtle::ConstantTimeEq as _;

pub mod events;
pub mod inbound;
pub mod send;

pub use events::PostmarkEvents;
pub use inbound::PostmarkInbound;
pub use send::PostmarkChannel;

/// The `Metadata` key carrying the outbox key (set by [`PostmarkChannel`], echoed by every
/// webhook of the message).
pub const KEY_META: &str = "aftercare_key";

/// What went wrong setting up the Postmark adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostmarkError {
    /// A required setting is empty.
    #[error("the Postmark {0} is empty")]
    Missing(&'static str),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// The HTTP Basic credentials a webhook URL carries (`https://user:password@host/...`),
/// checked in constant time. The password never shows in `Debug`.
#[derive(Clone)]
pub struct BasicAuth {
    expected: Vec<u8>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth").finish_non_exhaustive()
    }
}

impl BasicAuth {
    /// Requests must present `user` and `password`; an empty password is refused (an
    /// unprotected webhook is not something to switch on by omission).
    pub fn new(user: impl Into<String>, password: Secret) -> Result<Self, PostmarkError> {
        let user = user.into();
        if user.is_empty() {
            return Err(PostmarkError::Missing("webhook user"));
        }
        if password.is_empty() {
            return Err(PostmarkError::Missing("webhook password"));
        }
        let mut expected = user.into_bytes();
        expected.push(b':');
        expected.extend_from_slice(password.expose());
        Ok(Self { expected })
    }

    /// Whether an `Authorization` header value presents the credentials. The comparison
    /// takes the same time wherever the first difference is.
    pub fn accepts(&self, authorization: Option<&str>) -> bool {
        let Some(b64) = authorization.and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        }) else {
            return false;
        };
        let Ok(raw) = B64.decode(b64) else {
            return false;
        };
        bool::from(raw.ct_eq(&self.expected))
    }

    pub(crate) fn check(&self, request: &WebhookRequest<'_>) -> bool {
        self.accepts(request.headers.get_str("authorization"))
    }
}
