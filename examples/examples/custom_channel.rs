//! A channel of your own: `MessageChannel` for a provider Aftercare has no adapter for.
//!
//! This one posts each message as JSON to a chat-style webhook (think of a team inbox that
//! relays to customers). What a channel must get right, whatever its provider:
//! - say which kind of channel it is (`kind`), so the flows' channel order and the consent
//!   rules apply to it;
//! - return the provider's message id, so delivery reports find the message;
//! - tell a refusal (`Permanent`: do not retry) from a failure worth retrying (`Transient`),
//!   and a timeout after the request left (`Uncertain`: it may have been sent, so the
//!   dispatcher never blindly sends it twice).
//!
//! ```text
//! cargo run -p aftercare-examples --example custom_channel
//! ```

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Purpose, Receipt};

/// Posts messages to `url` as `{"to", "text", "key"}`.
#[derive(Debug)]
pub struct ChatWebhook {
    http: reqwest::Client,
    url: String,
}

impl ChatWebhook {
    /// A channel posting to `url`, with a 10-second timeout.
    pub fn new(url: impl Into<String>) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            url: url.into(),
        })
    }
}

#[async_trait::async_trait]
impl MessageChannel for ChatWebhook {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    async fn send(&self, msg: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        // The key is the same on every attempt of this message: a provider that
        // de-duplicates on it turns a retry after a lost answer into a no-op.
        let body = serde_json::json!({ "to": msg.to, "text": msg.text, "key": key });
        let resp = match self.http.post(&self.url).json(&body).send().await {
            Ok(r) => r,
            // The request may have reached the provider: the dispatcher resolves it later.
            Err(e) if e.is_timeout() => {
                return Err(SendError::MaybeSent {
                    reason: e.to_string(),
                });
            }
            // Not connected: it never left, so trying again is safe.
            Err(e) => return Err(SendError::transient(None, e.to_string())),
        };
        let status = resp.status();
        if status.as_u16() == 429 {
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(SendError::transient(wait, "throttled (HTTP 429)"));
        }
        if status.is_server_error() {
            // The provider may have taken it before failing: not a blind retry.
            return Err(SendError::MaybeSent {
                reason: format!("HTTP {status}"),
            });
        }
        if !status.is_success() {
            return Err(SendError::permanent(None, format!("HTTP {status}")));
        }
        let id = resp
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
            .ok_or_else(|| SendError::MaybeSent {
                reason: "the provider answered without a message id".into(),
            })?;
        Ok(Receipt::new(id, chrono::Utc::now()))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A stand-in for the provider, on loopback: it answers with the id it gave the message.
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(|| async { axum::Json(serde_json::json!({ "id": "msg-1" })) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/send", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let channel = ChatWebhook::new(url)?;
    let msg = OutboundMessage::new(
        ChannelKind::Sms,
        "+905551234567",
        Purpose::Transactional,
        "Your order has shipped.",
    );
    let receipt = channel.send(&msg, "tracking:1001:f-1:shipped:sms").await?;
    println!("sent, provider id {}", receipt.provider_message_id);
    assert_eq!(receipt.provider_message_id, "msg-1");
    Ok(())
}
