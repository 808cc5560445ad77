//! Signed outbound webhooks for Aftercare, in the Standard Webhooks format: a
//! [`MessageChannel`] of kind [`ChannelKind::Webhook`] that POSTs the message's text (JSON)
//! to the message's address (a URL).
//!
//! Every delivery carries `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64>` over `{id}.{timestamp}.{body}`. The id is derived from
//! the outbox's idempotency key, so a retried delivery has the same id and the receiver can
//! drop the duplicate, as the specification asks.
//!
//! ```
//! use aftercare::webhook::Secret;
//! use aftercare_webhook_out::WebhookOut;
//! let channel = WebhookOut::new(Secret::from_standard_webhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()).unwrap();
//! assert_eq!(WebhookOut::message_id("followup:1001-nps:webhook").len(), 36);
//! # let _ = channel;
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Receipt};
use aftercare::webhook::{Scheme, Secret, Verifier};
use async_trait::async_trait;
use sha2::{Digest as _, Sha256};

/// A configuration error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Sends signed webhooks.
#[derive(Clone, Debug)]
pub struct WebhookOut {
    signer: Verifier,
    http: reqwest::Client,
}

impl WebhookOut {
    /// A channel signing with `secret` (the receiver's `whsec_...` secret), with a 10 s
    /// timeout.
    pub fn new(secret: Secret) -> Result<Self, Error> {
        Ok(Self {
            signer: Verifier::new(Scheme::StandardWebhooks, secret),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(5))
                .user_agent(concat!("aftercare-webhook-out/", env!("CARGO_PKG_VERSION")))
                .build()?,
        })
    }

    /// The `webhook-id` for an idempotency key: `msg_` + the first 32 hex digits of its
    /// SHA-256, stable across retries.
    pub fn message_id(key: &str) -> String {
        let h = hex::encode(Sha256::digest(key.as_bytes()));
        format!("msg_{}", &h[..32])
    }
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

#[async_trait]
impl MessageChannel for WebhookOut {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    async fn send(&self, message: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        let url = url::Url::parse(&message.to)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http"))
            .ok_or_else(|| {
                SendError::permanent(None, format!("`{}` is not an http(s) URL", message.to))
            })?;
        let id = Self::message_id(key);
        let now = chrono::Utc::now();
        let body = message.text.as_bytes();
        let signed = self.signer.sign_with_id(&id, now.timestamp(), body);
        let mut req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(message.text.clone());
        for (name, value) in signed.iter() {
            req = req.header(name, value);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return Err(SendError::transient(
                    None,
                    format!("could not connect: {e}"),
                ));
            }
            Err(e) if e.is_builder() || e.is_request() && !e.is_timeout() => {
                return Err(SendError::transient(
                    None,
                    format!("request failed before it was sent: {e}"),
                ));
            }
            Err(e) => {
                return Err(SendError::MaybeSent {
                    reason: format!("no answer from the receiver: {e}"),
                });
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(Receipt::new(id, now));
        }
        let wait = retry_after(&resp);
        let text: String = resp
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        let reason = format!("HTTP {status}: {text}");
        Err(match status.as_u16() {
            429 | 408 | 425 => SendError::transient(wait, reason),
            s if s >= 500 => SendError::transient(wait, reason),
            _ => SendError::permanent(Some(&status.as_u16().to_string()), reason),
        })
    }
}
