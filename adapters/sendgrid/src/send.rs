//! Email through the v3 Mail Send API (docs: twilio.com/docs/sendgrid/api-reference/mail-send/mail-send):
//! `POST /v3/mail/send` with `Authorization: Bearer <API key>`; `202 Accepted` with an
//! `X-Message-Id` header, which becomes the receipt: the events' `sg_message_id` starts with
//! it. The outbox key goes along as the custom argument [`KEY_ARG`]
//! (no personal data: keys hold ids only), so events find the message even without the id.

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Receipt};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use serde_json::json;

use crate::SendGridError;
use crate::events::KEY_ARG;

/// The SendGrid email channel.
#[derive(Clone, Debug)]
pub struct SendGridChannel {
    api_key: Secret,
    from: String,
    from_name: Option<String>,
    reply_to: Option<String>,
    base_url: String,
    http: reqwest::Client,
}

impl SendGridChannel {
    /// Sends as `from` with `api_key` through `https://api.sendgrid.com`.
    pub fn new(api_key: Secret, from: impl Into<String>) -> Result<Self, SendGridError> {
        if api_key.is_empty() {
            return Err(SendGridError::Missing("API key"));
        }
        let from = from.into();
        if from.trim().is_empty() {
            return Err(SendGridError::Missing("sender address"));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| SendGridError::Client(e.to_string()))?;
        Ok(Self {
            api_key,
            from,
            from_name: None,
            reply_to: None,
            base_url: "https://api.sendgrid.com".into(),
            http,
        })
    }

    /// Another API host: `https://api.eu.sendgrid.com` for EU subusers, or a test stand-in.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The sender's display name.
    pub fn from_name(mut self, name: impl Into<String>) -> Self {
        self.from_name = Some(name.into());
        self
    }

    /// Replies go to this address (the Inbound Parse domain, for survey replies).
    pub fn reply_to(mut self, addr: impl Into<String>) -> Self {
        self.reply_to = Some(addr.into());
        self
    }

    /// The Mail Send request body for a message.
    pub fn body(&self, msg: &OutboundMessage, key: &str) -> serde_json::Value {
        let mut from = json!({ "email": self.from });
        if let Some(n) = &self.from_name {
            from["name"] = json!(n);
        }
        let mut content = vec![json!({ "type": "text/plain", "value": msg.text })];
        if let Some(h) = &msg.html {
            content.push(json!({ "type": "text/html", "value": h }));
        }
        let mut b = json!({
            "personalizations": [{
                "to": [{ "email": msg.to }],
                "custom_args": { KEY_ARG: key },
            }],
            "from": from,
            "subject": msg.subject.clone().unwrap_or_default(),
            "content": content,
        });
        if let Some(r) = msg.meta.get("reply_to").or(self.reply_to.as_ref()) {
            b["reply_to"] = json!({ "email": r });
        }
        if let Some(u) = msg.meta.get("list_unsubscribe") {
            b["headers"] = json!({
                "List-Unsubscribe": format!("<{u}>"),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            });
        }
        b
    }
}

#[async_trait]
impl MessageChannel for SendGridChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn send(
        &self,
        msg: &OutboundMessage,
        idempotency_key: &str,
    ) -> Result<Receipt, SendError> {
        let token = String::from_utf8_lossy(self.api_key.expose()).into_owned();
        let resp = self
            .http
            .post(format!("{}/v3/mail/send", self.base_url))
            .bearer_auth(token)
            .json(&self.body(msg, idempotency_key))
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    SendError::transient(None, format!("could not reach SendGrid: {e}"))
                } else {
                    SendError::MaybeSent {
                        reason: format!("no answer from SendGrid after the request: {e}"),
                    }
                }
            })?;
        let status = resp.status().as_u16();
        let id = resp
            .headers()
            .get("x-message-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let wait = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| aftercare::platform::limits::retry_after(v, chrono::Utc::now()));
        let text = resp.text().await.unwrap_or_default();
        match status {
            200..=299 => {
                // Without an id, events still find it by the key in the custom arguments.
                Ok(Receipt::new(
                    id.unwrap_or_else(|| idempotency_key.to_owned()),
                    chrono::Utc::now(),
                ))
            }
            429 => Err(SendError::transient(wait, "SendGrid rate limit (429)")),
            500..=599 => Err(SendError::transient(
                wait,
                format!("SendGrid HTTP {status}"),
            )),
            _ => Err(SendError::permanent(
                Some(&status.to_string()),
                format!("SendGrid refused the message: {}", errors_of(&text)),
            )),
        }
    }
}

fn errors_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let msgs: Vec<&str> = v["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["message"].as_str()).collect())
        .unwrap_or_default();
    if msgs.is_empty() {
        body.chars().take(200).collect()
    } else {
        msgs.join("; ")
    }
}
