use std::borrow::Cow;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{RawHeaders, Secret};

type HmacSha256 = Hmac<Sha256>;

/// The largest body accepted by default: 1 MiB. Shop platforms send far less.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default replay window for signed timestamps: 5 minutes either way, as the
/// Standard Webhooks reference libraries use.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// How a sender signs its webhooks. One of the three families the shop platforms use.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// HMAC-SHA256 of the raw body, base64, in one header
    /// (Shopify `X-Shopify-Hmac-Sha256`, WooCommerce `X-WC-Webhook-Signature`).
    HmacSha256Base64 {
        /// The header carrying the signature.
        header: Cow<'static, str>,
    },
    /// HMAC-SHA256 of the raw body, hex (either case), in one header, optionally after a
    /// prefix such as `sha256=` (Salla, Nuvemshop, Shopware, Meta's `X-Hub-Signature-256`).
    HmacSha256Hex {
        /// The header carrying the signature.
        header: Cow<'static, str>,
        /// A prefix before the hex digits, if the sender adds one.
        prefix: Option<Cow<'static, str>>,
    },
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp` and
    /// `webhook-signature: v1,<base64>` (several, separated by spaces), signed over
    /// `{id}.{timestamp}.{body}`. BigCommerce and Svix use it. The `svix-*` header names are
    /// accepted too.
    StandardWebhooks,
}

impl Scheme {
    /// Base64 HMAC-SHA256 of the body in `header`.
    pub fn hmac_sha256_base64(header: impl Into<Cow<'static, str>>) -> Self {
        Scheme::HmacSha256Base64 {
            header: header.into(),
        }
    }

    /// Hex HMAC-SHA256 of the body in `header`, without prefix.
    pub fn hmac_sha256_hex(header: impl Into<Cow<'static, str>>) -> Self {
        Scheme::HmacSha256Hex {
            header: header.into(),
            prefix: None,
        }
    }

    /// Hex HMAC-SHA256 of the body in `header`, after `prefix` (e.g. `sha256=`).
    pub fn hmac_sha256_hex_prefixed(
        header: impl Into<Cow<'static, str>>,
        prefix: impl Into<Cow<'static, str>>,
    ) -> Self {
        Scheme::HmacSha256Hex {
            header: header.into(),
            prefix: Some(prefix.into()),
        }
    }
}

/// Why a webhook was refused. Each kind maps to one HTTP status with [`Rejection::status`].
///
/// ```
/// use aftercare::webhook::Rejection;
/// assert_eq!(Rejection::Mismatch.status(), 401);
/// assert_eq!(Rejection::TooLarge { limit: 10, size: 11 }.status(), 413);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A header the scheme needs is absent or empty.
    #[error(
        "the webhook has no `{header}` header; it was not sent by the expected platform or a proxy stripped it"
    )]
    MissingHeader {
        /// The header's name.
        header: String,
    },
    /// A header is present but not in the expected encoding.
    #[error("the `{header}` header is not valid {expected}")]
    BadEncoding {
        /// The header's name.
        header: String,
        /// What it should be (`base64`, `hex`, `an integer`...).
        expected: &'static str,
    },
    /// The body is empty.
    #[error("the webhook body is empty")]
    EmptyBody,
    /// No active secret produces the signature: forged, or signed with another secret
    /// (a rotated one, or a shop's notification key instead of the app secret).
    #[error(
        "the webhook signature does not match any active secret; check the secret configured for this source"
    )]
    Mismatch,
    /// The signed timestamp is outside the replay window (too old or in the future).
    #[error(
        "the signed timestamp {timestamp} is {skew_secs}s away from now, beyond the {tolerance_secs}s window; a replay or a wrong clock"
    )]
    Stale {
        /// The timestamp received (Unix seconds).
        timestamp: i64,
        /// How far it is from now, in seconds.
        skew_secs: i64,
        /// The window allowed.
        tolerance_secs: u64,
    },
    /// The body is larger than allowed.
    #[error("the webhook body of {size} bytes is over the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
        /// The size received (at least `limit + 1` when the read was cut short).
        size: usize,
    },
    /// A GET subscription handshake was refused (wrong verify token, not a subscription,
    /// no challenge): see [`WebhookSource::handshake`](super::WebhookSource::handshake).
    #[error(
        "the subscription handshake was refused: {reason}; check the verify token configured for this source"
    )]
    HandshakeRefused {
        /// Why.
        reason: String,
    },
    /// The request is validly signed but names an account (shop, store, Twilio account,
    /// WhatsApp number) other than the one this source is configured for. Headers outside
    /// the signature are claims: a signed body replayed with another shop's header, or a
    /// webhook meant for another installation, lands here.
    #[error(
        "the webhook names {what} `{claimed}`, but this source is configured for another; check the {what} configured for this source"
    )]
    WrongAccount {
        /// What kind of account (`shop`, `account`, `phone number`...).
        what: &'static str,
        /// The value the request claims.
        claimed: String,
    },
    /// The request cannot be checked yet (the key to check it with is being fetched): `503`,
    /// so the sender retries, and nothing is stored meanwhile.
    #[error("the webhook cannot be verified yet: {reason}; the sender's retry will be")]
    TryLater {
        /// Why.
        reason: String,
    },
}

impl Rejection {
    /// The HTTP status to answer with: 400 for a malformed request, 401 for an
    /// unauthenticated one (bad signature, stale timestamp), 413 for a body too large, 403
    /// for a refused subscription handshake or a webhook for another account.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::MissingHeader { .. }
            | Rejection::BadEncoding { .. }
            | Rejection::EmptyBody => 400,
            Rejection::Mismatch | Rejection::Stale { .. } => 401,
            Rejection::TooLarge { .. } => 413,
            Rejection::HandshakeRefused { .. } | Rejection::WrongAccount { .. } => 403,
            Rejection::TryLater { .. } => 503,
        }
    }

    /// A short stable code (`missing_header`, `mismatch`...), for logs and responses.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::MissingHeader { .. } => "missing_header",
            Rejection::BadEncoding { .. } => "bad_encoding",
            Rejection::EmptyBody => "empty_body",
            Rejection::Mismatch => "mismatch",
            Rejection::Stale { .. } => "stale",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::HandshakeRefused { .. } => "handshake_refused",
            Rejection::WrongAccount { .. } => "wrong_account",
            Rejection::TryLater { .. } => "try_later",
        }
    }
}

/// What a successful verification learnt.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verification {
    /// Which secret matched (0 is the current one); a match on an older one means the sender
    /// has not switched yet.
    pub secret_index: usize,
    /// The signed message id (Standard Webhooks), usable for de-duplication.
    pub message_id: Option<String>,
    /// The signed timestamp (Standard Webhooks).
    pub timestamp: Option<DateTime<Utc>>,
}

/// Verifies webhook signatures over raw bytes, in constant time, with several active secrets.
///
/// Modelled on svix's verifier: secrets can rotate (old and new both accepted until the old
/// one is removed), a signed timestamp must be within the replay window, the body size is
/// capped, and [`Verifier::sign`] produces valid headers for tests.
///
/// ```
/// use aftercare::webhook::{Verifier, Scheme, Secret};
/// let v = Verifier::new(Scheme::hmac_sha256_base64("X-Shopify-Hmac-Sha256"), Secret::from("test_secret_key"));
/// let body = br#"{"foo": "bar"}"#;
/// let headers = v.sign(body, chrono::Utc::now());
/// assert_eq!(
///     headers.get_str("X-Shopify-Hmac-Sha256"),
///     Some("B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=")
/// );
/// assert!(v.verify(&headers, body, chrono::Utc::now()).is_ok());
/// assert!(v.verify(&headers, br#"{"foo":"bar"}"#, chrono::Utc::now()).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    scheme: Scheme,
    secrets: Vec<Secret>,
    max_body_bytes: usize,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier with one secret, the default body limit and replay window.
    pub fn new(scheme: Scheme, secret: Secret) -> Self {
        Self {
            scheme,
            secrets: vec![secret],
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// A verifier with several active secrets, the current one first.
    pub fn with_secrets(scheme: Scheme, secrets: impl IntoIterator<Item = Secret>) -> Self {
        Self {
            scheme,
            secrets: secrets.into_iter().collect(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Starts a rotation: `new` becomes the current secret (used by `sign`), the others stay
    /// accepted until [`Verifier::retire`] removes them.
    pub fn rotate(&mut self, new: Secret) {
        self.secrets.insert(0, new);
    }

    /// Ends a rotation: keeps only the current secret.
    pub fn retire(&mut self) {
        self.secrets.truncate(1);
    }

    /// Sets the body size limit.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets the replay window for signed timestamps.
    pub fn tolerance(mut self, window: Duration) -> Self {
        self.tolerance = window;
        self
    }

    /// The body size limit in force.
    pub fn body_limit(&self) -> usize {
        self.max_body_bytes
    }

    /// The scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Verifies a request's raw body against its headers. Nothing is parsed before the
    /// signature has been checked.
    pub fn verify(
        &self,
        headers: &RawHeaders,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Verification, Rejection> {
        if body.len() > self.max_body_bytes {
            return Err(Rejection::TooLarge {
                limit: self.max_body_bytes,
                size: body.len(),
            });
        }
        match &self.scheme {
            Scheme::HmacSha256Base64 { header } => {
                let value = required(headers, header)?;
                if body.is_empty() {
                    return Err(Rejection::EmptyBody);
                }
                let sig = B64
                    .decode(value.trim())
                    .map_err(|_| Rejection::BadEncoding {
                        header: header.to_string(),
                        expected: "base64",
                    })?;
                self.match_any(&[body], &[sig]).map(|i| Verification {
                    secret_index: i,
                    message_id: None,
                    timestamp: None,
                })
            }
            Scheme::HmacSha256Hex { header, prefix } => {
                let value = required(headers, header)?;
                if body.is_empty() {
                    return Err(Rejection::EmptyBody);
                }
                let value = value.trim();
                let digits = match prefix {
                    Some(p) => strip_prefix_ignore_case(value, p).ok_or_else(|| {
                        Rejection::BadEncoding {
                            header: header.to_string(),
                            expected: "hex after the expected prefix",
                        }
                    })?,
                    None => value,
                };
                let sig = hex::decode(digits).map_err(|_| Rejection::BadEncoding {
                    header: header.to_string(),
                    expected: "hex",
                })?;
                self.match_any(&[body], &[sig]).map(|i| Verification {
                    secret_index: i,
                    message_id: None,
                    timestamp: None,
                })
            }
            Scheme::StandardWebhooks => self.verify_standard(headers, body, now),
        }
    }

    fn verify_standard(
        &self,
        headers: &RawHeaders,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Verification, Rejection> {
        let (id_h, ts_h, sig_h) = if headers.get("webhook-id").is_some() {
            ("webhook-id", "webhook-timestamp", "webhook-signature")
        } else {
            ("svix-id", "svix-timestamp", "svix-signature")
        };
        let id = required(headers, id_h).map_err(|_| Rejection::MissingHeader {
            header: "webhook-id".into(),
        })?;
        let ts_text = required(headers, ts_h).map_err(|_| Rejection::MissingHeader {
            header: "webhook-timestamp".into(),
        })?;
        let sig_text = required(headers, sig_h).map_err(|_| Rejection::MissingHeader {
            header: "webhook-signature".into(),
        })?;
        let ts: i64 = ts_text.trim().parse().map_err(|_| Rejection::BadEncoding {
            header: "webhook-timestamp".into(),
            expected: "an integer of Unix seconds",
        })?;
        let skew = now.timestamp().saturating_sub(ts);
        let tol = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if skew.abs() > tol {
            return Err(Rejection::Stale {
                timestamp: ts,
                skew_secs: skew,
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        let mut sigs = Vec::new();
        let mut saw_entry = false;
        for entry in sig_text.split(' ').filter(|e| !e.is_empty()) {
            saw_entry = true;
            if let Some(b64) = entry.strip_prefix("v1,")
                && let Ok(sig) = B64.decode(b64)
            {
                sigs.push(sig);
            }
        }
        if sigs.is_empty() {
            return Err(if saw_entry {
                Rejection::BadEncoding {
                    header: "webhook-signature".into(),
                    expected: "space-separated `v1,<base64>` entries",
                }
            } else {
                Rejection::MissingHeader {
                    header: "webhook-signature".into(),
                }
            });
        }
        let ts_str = ts.to_string();
        let parts: [&[u8]; 5] = [id.as_bytes(), b".", ts_str.as_bytes(), b".", body];
        self.match_any(&parts, &sigs).map(|i| Verification {
            secret_index: i,
            message_id: Some(id.to_owned()),
            timestamp: DateTime::from_timestamp(ts, 0),
        })
    }

    /// Returns the index of the first secret whose MAC over `parts` equals one of `sigs`.
    /// Each comparison is constant-time (`Mac::verify_slice`).
    fn match_any(&self, parts: &[&[u8]], sigs: &[Vec<u8>]) -> Result<usize, Rejection> {
        for (i, secret) in self.secrets.iter().enumerate() {
            let Ok(mut mac) = HmacSha256::new_from_slice(secret.expose()) else {
                continue;
            };
            for p in parts {
                mac.update(p);
            }
            for sig in sigs {
                if mac.clone().verify_slice(sig).is_ok() {
                    return Ok(i);
                }
            }
        }
        Err(Rejection::Mismatch)
    }

    /// Signs `body` with the current secret and returns the headers a sender would add.
    /// For Standard Webhooks a fresh `msg_...` id and `now` as the timestamp are used.
    pub fn sign(&self, body: &[u8], now: DateTime<Utc>) -> RawHeaders {
        let id = format!("msg_{}", uuid_like());
        self.sign_with_id(&id, now.timestamp(), body)
    }

    /// Signs `body` with the current secret, with a given message id and timestamp
    /// (used by Standard Webhooks only; the HMAC schemes ignore them).
    pub fn sign_with_id(&self, id: &str, timestamp: i64, body: &[u8]) -> RawHeaders {
        let key = self.secrets.first().map(Secret::expose).unwrap_or_default();
        let mut headers = RawHeaders::new();
        match &self.scheme {
            Scheme::HmacSha256Base64 { header } => {
                headers.insert(header.to_string(), B64.encode(mac(key, &[body])));
            }
            Scheme::HmacSha256Hex { header, prefix } => {
                let p = prefix.as_deref().unwrap_or("");
                headers.insert(
                    header.to_string(),
                    format!("{p}{}", hex::encode(mac(key, &[body]))),
                );
            }
            Scheme::StandardWebhooks => {
                let ts = timestamp.to_string();
                let sig = mac(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
                headers.insert("webhook-id", id.as_bytes().to_vec());
                headers.insert("webhook-timestamp", ts.into_bytes());
                headers.insert("webhook-signature", format!("v1,{}", B64.encode(sig)));
            }
        }
        headers
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match HmacSha256::new_from_slice(key) {
        Ok(mut m) => {
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length; this arm cannot be reached.
        Err(_) => Vec::new(),
    }
}

fn required<'h>(headers: &'h RawHeaders, name: &str) -> Result<&'h str, Rejection> {
    match headers.get(name) {
        None => Err(Rejection::MissingHeader {
            header: name.to_owned(),
        }),
        Some(v) if v.iter().all(u8::is_ascii_whitespace) => Err(Rejection::MissingHeader {
            header: name.to_owned(),
        }),
        Some(v) => std::str::from_utf8(v).map_err(|_| Rejection::BadEncoding {
            header: name.to_owned(),
            expected: "ASCII text",
        }),
    }
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

fn uuid_like() -> String {
    use rand::Rng as _;
    let n: u128 = rand::thread_rng().r#gen();
    format!("{n:032x}")
}
