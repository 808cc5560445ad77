//! # aftercare-ses
//!
//! Amazon SES delivery events through Amazon SNS, for [Aftercare](aftercare).
//!
//! SES publishes bounces, complaints and deliveries to an SNS topic, and SNS POSTs each to
//! an HTTPS subscription as a JSON envelope whose `Message` is the SES event as a string.
//! [`SesEvents`] verifies the envelope as AWS's own validators do (aws-js-sns-message-validator,
//! "Verifying the signatures of Amazon SNS messages"):
//! - the **string to sign** is `key\nvalue\n` for each present key, in order — `Message`,
//!   `MessageId`, `Subject`, `SubscribeURL`, `Timestamp`, (`Token`,) `TopicArn`, `Type`
//!   (`Token` for subscription messages only) — see [`string_to_sign`];
//! - the `Signature` is base64 RSA PKCS#1 v1.5 with **SHA1** for `SignatureVersion` `1`,
//!   **SHA256** for `2`;
//! - the key comes from the X.509 certificate at `SigningCertURL`, which must be `https`,
//!   on a host `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn`) and end in `.pem`
//!   ([`cert_url_allowed`]) *before* anything is fetched. Certificates are cached by URL
//!   ([`SnsCertificates`]) and can be **pinned** from configuration, so tests and locked-down
//!   deployments need no network. An unknown certificate is fetched in the background and
//!   the request answered `503` ([`Rejection::TryLater`]), which SNS retries 20 s later.
//! - the `TopicArn` must be one configured (`403` otherwise, after the signature).
//!
//! [`decode_events`] turns a stored notification into [`EmailEvent`]s: `Bounce`
//! (`bounceType` `Permanent` = hard, `Transient`/`Undetermined` = soft, one per bounced
//! recipient), `Complaint`, `Delivery`, `Open`, read from `eventType` (configuration-set
//! publishing) or `notificationType` (identity notifications).
//!
//! Subscription messages are verified exactly as notifications (signature, certificate
//! URL, topic allow-list) and stored like them; [`SnsSubscriptions::handle`] then acts on
//! them: a `SubscriptionConfirmation` is confirmed by a GET of its `SubscribeURL` **only
//! when that URL is `https` on an Amazon SNS host** (`sns.<region>.amazonaws.com`, or
//! `.amazonaws.com.cn`; [`subscribe_url_allowed`]) — anything else is refused and nothing
//! is fetched; an `UnsubscribeConfirmation` (the subscription was deleted) is logged as a
//! warning and never re-subscribed. Tests route the confirmation GET to a stand-in with
//! [`SnsSubscriptions::route_to`], after the same host check.

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use aftercare::Error;
use aftercare::flows::email::{EmailEvent, EmailEventKind};
use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{Rejection, VerifiedWebhook, WebhookRequest, WebhookSource};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use serde_json::Value;
use sha1::Digest as _;
use x509_cert::der::{DecodePem as _, Encode as _};

/// The SES message tag carrying the outbox key (`EmailTags` when sending).
pub const KEY_TAG: &str = "aftercare_key";

/// What went wrong with certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SesError {
    /// The certificate URL is not an Amazon SNS one.
    #[error(
        "`{0}` is not an SNS signing certificate URL (https://sns.<region>.amazonaws.com/….pem)"
    )]
    UrlNotAllowed(String),
    /// The certificate does not parse or holds no RSA key.
    #[error("the SNS signing certificate is not a PEM X.509 certificate with an RSA key")]
    BadCertificate,
    /// Fetching it failed.
    #[error("the SNS signing certificate could not be fetched: {0}")]
    Fetch(String),
}

/// Whether a `SigningCertURL` may be fetched: `https`, no user or port, a host
/// `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn` (region of letters,
/// digits and dashes, three at least), a path ending `.pem`.
pub fn cert_url_allowed(raw: &str) -> bool {
    let Ok(u) = url::Url::parse(raw) else {
        return false;
    };
    if u.scheme() != "https" || !u.username().is_empty() || u.password().is_some() {
        return false;
    }
    if u.port().is_some() || !u.path().ends_with(".pem") || u.query().is_some() {
        return false;
    }
    u.host_str().is_some_and(is_sns_host)
}

/// Whether `host` is an Amazon SNS endpoint: `sns.<region>.amazonaws.com` or
/// `sns.<region>.amazonaws.com.cn` (region of letters, digits and dashes, three at least).
pub fn is_sns_host(host: &str) -> bool {
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"));
    let Some(region) = rest.and_then(|r| r.strip_prefix("sns.")) else {
        return false;
    };
    region.len() >= 3
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Whether a `SubscribeURL` may be visited: `https`, no user or port, an Amazon SNS host
/// ([`is_sns_host`]).
pub fn subscribe_url_allowed(raw: &str) -> bool {
    let Ok(u) = url::Url::parse(raw) else {
        return false;
    };
    u.scheme() == "https"
        && u.username().is_empty()
        && u.password().is_none()
        && u.port().is_none()
        && u.host_str().is_some_and(is_sns_host)
}

/// What [`SnsSubscriptions::handle`] did with a stored SNS message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscriptionOutcome {
    /// The subscription to this topic was confirmed.
    Confirmed {
        /// The topic ARN.
        topic: String,
    },
    /// The subscription to this topic was deleted (logged; not re-subscribed).
    Unsubscribed {
        /// The topic ARN.
        topic: String,
    },
    /// A notification: nothing to do here.
    NotASubscriptionMessage,
}

/// Acts on verified, stored SNS subscription messages (see the [crate] docs).
#[derive(Clone, Debug)]
pub struct SnsSubscriptions {
    http: reqwest::Client,
    route_to: Option<url::Url>,
}

impl Default for SnsSubscriptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SnsSubscriptions {
    /// Confirms through Amazon (no redirects followed, 10 s timeout).
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            route_to: None,
        }
    }

    /// Sends the confirmation GET to `base` (keeping the `SubscribeURL`'s path and query)
    /// instead of Amazon: for tests against a stand-in. The `SubscribeURL` is checked
    /// against Amazon's hosts first all the same, so this cannot make a message's own URL
    /// acceptable.
    pub fn route_to(mut self, base: url::Url) -> Self {
        self.route_to = Some(base);
        self
    }

    /// Confirms a `SubscriptionConfirmation`, logs an `UnsubscribeConfirmation`, ignores a
    /// `Notification`. A `SubscribeURL` off Amazon's SNS hosts is a non-retryable error
    /// and nothing is fetched; a `5xx` or network failure is retryable, a `4xx` (an expired
    /// token: SNS's tokens last three days) is not.
    pub async fn handle(&self, entry: &InboxEntry) -> Result<SubscriptionOutcome, Error> {
        let what = "an SNS subscription message";
        let m: Value = serde_json::from_slice(&entry.body).map_err(|e| Error::decode(what, e))?;
        let topic = m["TopicArn"].as_str().unwrap_or_default().to_owned();
        match m["Type"].as_str() {
            Some("SubscriptionConfirmation") => {}
            Some("UnsubscribeConfirmation") => {
                tracing::warn!(
                    topic = %topic,
                    "the SNS subscription was deleted: SES events from this topic stop until it is subscribed again (not done automatically)"
                );
                return Ok(SubscriptionOutcome::Unsubscribed { topic });
            }
            _ => return Ok(SubscriptionOutcome::NotASubscriptionMessage),
        }
        let raw = m["SubscribeURL"]
            .as_str()
            .or(m["SubscribeUrl"].as_str())
            .ok_or_else(|| Error::decode(what, "it has no SubscribeURL"))?;
        if !subscribe_url_allowed(raw) {
            tracing::warn!(topic = %topic, "SNS SubscribeURL refused: not an https Amazon SNS host");
            return Err(Error::decode(
                what,
                "its SubscribeURL is not an https URL on an Amazon SNS host (sns.<region>.amazonaws.com)",
            ));
        }
        let mut target = url::Url::parse(raw).map_err(|e| Error::decode(what, e))?;
        if let Some(base) = &self.route_to {
            let mut t = base.clone();
            t.set_path(target.path());
            t.set_query(target.query());
            target = t;
        }
        let platform = |status: Option<u16>, message: String, retryable: bool| Error::Platform {
            operation: "confirm the SNS subscription".into(),
            status,
            message,
            retryable,
        };
        let resp = self
            .http
            .get(target)
            .send()
            .await
            .map_err(|e| platform(None, e.to_string(), true))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(platform(
                Some(status),
                format!("SNS answered HTTP {status}"),
                status >= 500 || status == 429,
            ));
        }
        tracing::info!(topic = %topic, "SNS subscription confirmed");
        Ok(SubscriptionOutcome::Confirmed { topic })
    }
}

/// SNS signing certificates' keys, by URL: pinned, or fetched once and cached.
#[derive(Debug)]
pub struct SnsCertificates {
    keys: RwLock<HashMap<String, RsaPublicKey>>,
    fetching: Mutex<HashSet<String>>,
    fetch: bool,
    http: reqwest::Client,
}

impl Default for SnsCertificates {
    fn default() -> Self {
        Self::new()
    }
}

impl SnsCertificates {
    /// An empty cache that fetches unknown certificates (from allowed URLs only).
    pub fn new() -> Self {
        Self {
            keys: RwLock::default(),
            fetching: Mutex::default(),
            fetch: true,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        }
    }

    /// Only pinned certificates: never fetch.
    pub fn pinned_only(mut self) -> Self {
        self.fetch = false;
        self
    }

    /// Pins the certificate (PEM) served at `url`.
    pub fn pin(&self, url: &str, pem: &str) -> Result<(), SesError> {
        if !cert_url_allowed(url) {
            return Err(SesError::UrlNotAllowed(url.to_owned()));
        }
        let key = key_of(pem)?;
        if let Ok(mut k) = self.keys.write() {
            k.insert(url.to_owned(), key);
        }
        Ok(())
    }

    /// The key of a known certificate.
    pub fn get(&self, url: &str) -> Option<RsaPublicKey> {
        self.keys.read().ok()?.get(url).cloned()
    }

    /// Fetches and caches the certificate at an allowed `url`.
    pub async fn fetch(&self, url: &str) -> Result<(), SesError> {
        if !cert_url_allowed(url) {
            return Err(SesError::UrlNotAllowed(url.to_owned()));
        }
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| SesError::Fetch(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(SesError::Fetch(format!("HTTP {}", resp.status())));
        }
        let pem = resp
            .text()
            .await
            .map_err(|e| SesError::Fetch(e.to_string()))?;
        let key = key_of(&pem)?;
        if let Ok(mut k) = self.keys.write() {
            k.insert(url.to_owned(), key);
        }
        Ok(())
    }
}

fn key_of(pem: &str) -> Result<RsaPublicKey, SesError> {
    let cert = x509_cert::Certificate::from_pem(pem.trim().as_bytes())
        .map_err(|_| SesError::BadCertificate)?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| SesError::BadCertificate)?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| SesError::BadCertificate)
}

/// The string SNS signs for a message (`None` when `Type` is unknown).
pub fn string_to_sign(m: &Value) -> Option<String> {
    let keys: &[&str] = match m["Type"].as_str()? {
        "Notification" => &[
            "Message",
            "MessageId",
            "Subject",
            "SubscribeURL",
            "Timestamp",
            "TopicArn",
            "Type",
        ],
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => &[
            "Message",
            "MessageId",
            "Subject",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ],
        _ => return None,
    };
    let mut s = String::new();
    for k in keys {
        // A JSON null (a Subject-less message from some SDKs) counts as absent.
        if let Some(v) = m.get(*k).and_then(Value::as_str) {
            s.push_str(k);
            s.push('\n');
            s.push_str(v);
            s.push('\n');
        }
    }
    Some(s)
}

/// Whether the message's `Signature` is valid under `key` for its `SignatureVersion`.
pub fn signature_valid(m: &Value, key: &RsaPublicKey) -> bool {
    let (Some(text), Some(sig)) = (string_to_sign(m), m["Signature"].as_str()) else {
        return false;
    };
    let Ok(sig) = B64.decode(sig.trim()) else {
        return false;
    };
    match m["SignatureVersion"].as_str() {
        Some("1") => key
            .verify(
                Pkcs1v15Sign::new::<sha1::Sha1>(),
                &sha1::Sha1::digest(text.as_bytes()),
                &sig,
            )
            .is_ok(),
        Some("2") => key
            .verify(
                Pkcs1v15Sign::new::<sha2::Sha256>(),
                &sha2::Sha256::digest(text.as_bytes()),
                &sig,
            )
            .is_ok(),
        _ => false,
    }
}

/// SES events through an SNS subscription, as a webhook source (topic = the SNS `Type`).
#[derive(Debug, Clone)]
pub struct SesEvents {
    certs: Arc<SnsCertificates>,
    topics: Vec<String>,
    tolerance: chrono::Duration,
    require_v2: bool,
}

impl SesEvents {
    /// Messages of these topic ARNs, verified with `certs`.
    pub fn new(certs: Arc<SnsCertificates>, topics: Vec<String>) -> Self {
        Self {
            certs,
            topics,
            // SNS retries for up to an hour at most (its delivery policy's cap).
            tolerance: chrono::Duration::minutes(65),
            require_v2: false,
        }
    }

    /// Refuses `SignatureVersion` 1 (SHA1): set the topic's `SignatureVersion` to 2 first.
    pub fn require_signature_v2(mut self, yes: bool) -> Self {
        self.require_v2 = yes;
        self
    }

    /// Confirms a verified, stored `SubscriptionConfirmation` by visiting its
    /// `SubscribeURL` (an `https://sns.<region>.amazonaws.com` URL only). Returns whether
    /// one was confirmed. See [`SnsSubscriptions::handle`].
    pub async fn confirm(&self, entry: &InboxEntry) -> Result<bool, Error> {
        Ok(matches!(
            SnsSubscriptions::new().handle(entry).await?,
            SubscriptionOutcome::Confirmed { .. }
        ))
    }
}

impl WebhookSource for SesEvents {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > 300 * 1024 {
            return Err(Rejection::TooLarge {
                limit: 300 * 1024,
                size: request.body.len(),
            });
        }
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        // The signature is inside the JSON envelope: parsing it is the first step of SNS
        // verification. Only the fields the signature covers are trusted afterwards.
        let m: Value =
            serde_json::from_slice(request.body).map_err(|_| Rejection::BadEncoding {
                header: "body".into(),
                expected: "an SNS JSON message",
            })?;
        let missing = |f: &str| Rejection::MissingHeader {
            header: f.to_owned(),
        };
        let url = m["SigningCertURL"]
            .as_str()
            .or(m["SigningCertUrl"].as_str())
            .ok_or_else(|| missing("SigningCertURL"))?;
        if !cert_url_allowed(url) {
            return Err(Rejection::Mismatch);
        }
        if self.require_v2 && m["SignatureVersion"].as_str() != Some("2") {
            return Err(Rejection::Mismatch);
        }
        let Some(key) = self.certs.get(url) else {
            if self.certs.fetch
                && let Ok(rt) = tokio::runtime::Handle::try_current()
                && self
                    .certs
                    .fetching
                    .lock()
                    .map(|mut f| f.insert(url.to_owned()))
                    .unwrap_or(false)
            {
                let certs = self.certs.clone();
                let url = url.to_owned();
                rt.spawn(async move {
                    if let Err(e) = certs.fetch(&url).await {
                        tracing::warn!(error = %e, "SNS certificate fetch failed");
                    }
                    if let Ok(mut f) = certs.fetching.lock() {
                        f.remove(&url);
                    }
                });
            }
            return Err(Rejection::TryLater {
                reason: "the SNS signing certificate is not known yet".into(),
            });
        };
        if !signature_valid(&m, &key) {
            return Err(Rejection::Mismatch);
        }
        let topic = m["TopicArn"].as_str().unwrap_or("");
        if !self.topics.iter().any(|t| t == topic) {
            return Err(Rejection::WrongAccount {
                what: "SNS topic",
                claimed: topic.to_owned(),
            });
        }
        let at = m["Timestamp"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| missing("Timestamp"))?;
        let skew = (request.received_at - at).num_seconds().abs();
        if skew > self.tolerance.num_seconds() {
            return Err(Rejection::Stale {
                timestamp: at.timestamp(),
                skew_secs: skew,
                tolerance_secs: self.tolerance.num_seconds().unsigned_abs(),
            });
        }
        let id = m["MessageId"]
            .as_str()
            .ok_or_else(|| missing("MessageId"))?;
        let mut v = VerifiedWebhook::new(format!("sns:{id}"));
        v.topic = m["Type"].as_str().map(str::to_owned);
        v.occurred_at = Some(at);
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode_events(&entry.body)?;
        Ok(vec![PlatformEvent::Unrecognized {
            topic: entry.topic.clone().unwrap_or_else(|| "Notification".into()),
        }])
    }
}

/// The SES events of a stored SNS message (none for subscription messages).
pub fn decode_events(body: &[u8]) -> Result<Vec<EmailEvent>, Error> {
    let what = "an SNS message carrying an SES event";
    let m: Value = serde_json::from_slice(body).map_err(|e| Error::decode(what, e))?;
    if m["Type"].as_str() != Some("Notification") {
        return Ok(Vec::new());
    }
    let inner = m["Message"]
        .as_str()
        .ok_or_else(|| Error::decode(what, "no Message"))?;
    let e: Value = serde_json::from_str(inner).map_err(|e| Error::decode(what, e))?;
    let kind = e["eventType"]
        .as_str()
        .or(e["notificationType"].as_str())
        .ok_or_else(|| Error::decode(what, "neither eventType nor notificationType"))?;
    let mail = &e["mail"];
    let id = mail["messageId"].as_str().map(str::to_owned);
    let key = mail["tags"][KEY_TAG][0].as_str().map(str::to_owned);
    let time = |v: &Value| {
        v.as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let mut out = Vec::new();
    let mut push =
        |k: EmailEventKind, to: &str, at: Option<DateTime<Utc>>, reason: Option<String>| {
            let mut ev = EmailEvent::new(
                "ses",
                k,
                to,
                at.or_else(|| time(&mail["timestamp"])).unwrap_or_default(),
            );
            ev.provider_message_id.clone_from(&id);
            ev.key.clone_from(&key);
            ev.reason = reason;
            out.push(ev);
        };
    let addrs = |v: &Value, field: &str| -> Vec<(String, Option<String>)> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        let addr = r.as_str().or(r[field].as_str())?;
                        Some((
                            addr.to_owned(),
                            r["diagnosticCode"].as_str().map(str::to_owned),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match kind {
        "Bounce" => {
            let b = &e["bounce"];
            let permanent = b["bounceType"].as_str() == Some("Permanent");
            for (to, diag) in addrs(&b["bouncedRecipients"], "emailAddress") {
                let reason = diag.or_else(|| b["bounceSubType"].as_str().map(str::to_owned));
                push(
                    EmailEventKind::Bounced { permanent },
                    &to,
                    time(&b["timestamp"]),
                    reason,
                );
            }
        }
        "Complaint" => {
            let c = &e["complaint"];
            for (to, _) in addrs(&c["complainedRecipients"], "emailAddress") {
                push(
                    EmailEventKind::Complained,
                    &to,
                    time(&c["timestamp"]),
                    c["complaintFeedbackType"].as_str().map(str::to_owned),
                );
            }
        }
        "Delivery" => {
            let d = &e["delivery"];
            for (to, _) in addrs(&d["recipients"], "emailAddress") {
                push(EmailEventKind::Delivered, &to, time(&d["timestamp"]), None);
            }
        }
        "Open" => {
            for (to, _) in addrs(&mail["destination"], "emailAddress") {
                push(
                    EmailEventKind::Opened,
                    &to,
                    time(&e["open"]["timestamp"]),
                    None,
                );
            }
        }
        other => {
            for (to, _) in addrs(&mail["destination"], "emailAddress") {
                push(EmailEventKind::Other(other.to_owned()), &to, None, None);
            }
        }
    }
    Ok(out)
}
