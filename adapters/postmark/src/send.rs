//! Email through the Email API (postmarkapp.com/developer/user-guide/send-email-with-api,
//! `.../api/email-api`): `POST /email` with `X-Postmark-Server-Token`, a JSON body with
//! `From`, `To`, `Subject`, `TextBody`, `HtmlBody`, `MessageStream`, `ReplyTo`, `Headers`,
//! `Metadata`; `200` with `{"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message":
//! "OK"}`. The `MessageID` is the receipt: every webhook about the message carries it. The
//! outbox key goes along in `Metadata` ([`KEY_META`]; ids only, no personal data), so events
//! find the message even without the id.
//!
//! Errors (postmarkapp.com/developer/api/overview#error-codes): `401` a wrong token, `422`
//! with an `ErrorCode` (`300` invalid request, `406` inactive recipient: Postmark will not
//! send to an address that hard-bounced or complained), `429` too many requests, `500` and
//! `503` Postmark's side. `422`/`401` are permanent; `429` and `5xx` transient.

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Receipt};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use serde_json::{Value, json};

use crate::{KEY_META, PostmarkError};

/// The header carrying the server token.
pub const TOKEN_HEADER: &str = "X-Postmark-Server-Token";

/// The Postmark email channel.
#[derive(Clone)]
pub struct PostmarkChannel {
    token: Secret,
    from: String,
    reply_to: Option<String>,
    stream: String,
    base_url: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for PostmarkChannel {
    // The token never shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostmarkChannel")
            .field("stream", &self.stream)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl PostmarkChannel {
    /// Sends as `from` (an address or `Name <address>` of a confirmed sender signature) with
    /// the server token through `https://api.postmarkapp.com`, on the `outbound` stream.
    pub fn new(server_token: Secret, from: impl Into<String>) -> Result<Self, PostmarkError> {
        if server_token.is_empty() {
            return Err(PostmarkError::Missing("server token"));
        }
        let from = from.into();
        if from.trim().is_empty() {
            return Err(PostmarkError::Missing("sender address"));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| PostmarkError::Client(e.to_string()))?;
        Ok(Self {
            token: server_token,
            from,
            reply_to: None,
            stream: "outbound".into(),
            base_url: "https://api.postmarkapp.com".into(),
            http,
        })
    }

    /// Another API host (a test stand-in).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The message stream (default `outbound`, the transactional stream).
    pub fn stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = stream.into();
        self
    }

    /// Replies go to this address (the inbound address, for survey replies).
    pub fn reply_to(mut self, addr: impl Into<String>) -> Self {
        self.reply_to = Some(addr.into());
        self
    }

    /// The request body for a message.
    pub fn body(&self, msg: &OutboundMessage, key: &str) -> Value {
        let mut b = json!({
            "From": self.from,
            "To": msg.to,
            "Subject": msg.subject.clone().unwrap_or_default(),
            "TextBody": msg.text,
            "MessageStream": self.stream,
            "Metadata": { KEY_META: key },
        });
        if let Some(h) = &msg.html {
            b["HtmlBody"] = json!(h);
        }
        if let Some(r) = msg.meta.get("reply_to").or(self.reply_to.as_ref()) {
            b["ReplyTo"] = json!(r);
        }
        if let Some(u) = msg.meta.get("list_unsubscribe") {
            b["Headers"] = json!([
                { "Name": "List-Unsubscribe", "Value": format!("<{u}>") },
                { "Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click" },
            ]);
        }
        b
    }
}

#[async_trait]
impl MessageChannel for PostmarkChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn send(
        &self,
        msg: &OutboundMessage,
        idempotency_key: &str,
    ) -> Result<Receipt, SendError> {
        let token = String::from_utf8_lossy(self.token.expose()).into_owned();
        let resp = self
            .http
            .post(format!("{}/email", self.base_url))
            .header(TOKEN_HEADER, token)
            .header("Accept", "application/json")
            .json(&self.body(msg, idempotency_key))
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    SendError::transient(None, format!("could not reach Postmark: {e}"))
                } else {
                    SendError::MaybeSent {
                        reason: format!("no answer from Postmark after the request: {e}"),
                    }
                }
            })?;
        let status = resp.status().as_u16();
        let wait = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| aftercare::platform::limits::retry_after(v, chrono::Utc::now()));
        let text = resp.text().await.unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or_default();
        let code = v["ErrorCode"].as_i64();
        let message = v["Message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| text.chars().take(200).collect());
        match status {
            200..=299 if code.unwrap_or(0) == 0 => match v["MessageID"].as_str() {
                Some(id) if !id.is_empty() => Ok(Receipt::new(id, chrono::Utc::now())),
                // Accepted without an id: events still find it by the key in `Metadata`.
                _ => Ok(Receipt::new(idempotency_key, chrono::Utc::now())),
            },
            429 => Err(SendError::transient(wait, "Postmark rate limit (429)")),
            500..=599 => Err(SendError::transient(
                wait,
                format!("Postmark HTTP {status}: {message}"),
            )),
            _ => Err(SendError::permanent(
                Some(&code.map_or_else(|| status.to_string(), |c| c.to_string())),
                format!("Postmark refused the message: {message}"),
            )),
        }
    }
}
