//! [`WhatsAppCloudChannel`]: WhatsApp through Meta's Cloud API.

use std::sync::Arc;
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::{Clock, SystemClock};
use aftercare::model::{ChannelKind, OutboundMessage, Receipt, TemplateRef};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::WhatsAppError;
use crate::errors::{classify, classify_transport, parse_retry_after};

/// The Graph API's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";

/// The Graph API version used unless another is set (the version of Meta's current doc
/// examples, per the facts file §2.1). Set it with [`WhatsAppCloudChannel::api_version`].
pub const DEFAULT_API_VERSION: &str = "v26.0";

/// The key of [`OutboundMessage::meta`] saying until when the 24-hour customer-service window
/// is open for this recipient, as RFC 3339 (`2026-03-01T14:05:00Z`): the time of the
/// customer's last message plus 24 hours. The flow that builds the message sets it; without
/// it, the window is taken as closed.
pub const WINDOW_META_KEY: &str = "whatsapp_window_open_until";

/// The default timeout of a send request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest `biz_opaque_callback_data` Meta accepts (512 characters). A send carries the
/// message's idempotency key there when it fits, and Meta echoes it in the message's status
/// webhooks: a status can then name a message whose send timed out (left uncertain, its
/// `wamid` never learnt). Source: Meta's messages reference as quoted by a partner
/// (`https://docs.telepie.com/api-reference/campaigns/whatsapp/message-api/sending-custom-parameters`:
/// "included in statuses object within webhook payloads... Maximum 512 characters"), and the
/// facts file §2 (third-party).
pub const CALLBACK_DATA_MAX: usize = 512;

/// WhatsApp through the Cloud API: `POST {base}/{version}/{phone_number_id}/messages` with a
/// Bearer token.
///
/// The 24-hour customer-service window decides what is sent:
/// - a message with a `template` is always sent as that template (`type: template`, body
///   parameters, and the URL button's dynamic suffix as `sub_type: url`, index `"0"`);
/// - a message without one is sent as free-form text only while the window is open, which
///   the flow states in `meta[`[`WINDOW_META_KEY`]`]`; otherwise the send fails with
///   [`SendError::TemplateRequired`] without calling Meta.
///
/// Each send carries its idempotency key as `biz_opaque_callback_data` (when it is at most
/// [`CALLBACK_DATA_MAX`] characters), which statuses echo back
/// ([`StatusUpdate::callback_data`](crate::webhook::StatusUpdate::callback_data)).
///
/// ```
/// use aftercare_whatsapp_cloud::WhatsAppCloudChannel;
/// let ch = WhatsAppCloudChannel::new("106540352242922", "EAAG-secret-token")
///     .unwrap()
///     .api_version("v23.0");
/// assert!(!format!("{ch:?}").contains("EAAG-secret-token"));
/// ```
#[derive(Clone)]
pub struct WhatsAppCloudChannel {
    http: reqwest::Client,
    base_url: String,
    version: String,
    phone_number_id: String,
    token: Secret,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WhatsAppCloudChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppCloudChannel")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("phone_number_id", &self.phone_number_id)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

fn client(timeout: Duration) -> Result<reqwest::Client, WhatsAppError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
        .map_err(|e| WhatsAppError::HttpClient(e.to_string()))
}

impl WhatsAppCloudChannel {
    /// A channel sending from a business phone number id with a (system user) access token.
    pub fn new(
        phone_number_id: impl Into<String>,
        access_token: impl Into<Secret>,
    ) -> Result<Self, WhatsAppError> {
        let phone_number_id = phone_number_id.into();
        let token = access_token.into();
        if phone_number_id.is_empty() || token.is_empty() {
            return Err(WhatsAppError::MissingCredentials);
        }
        Ok(Self {
            http: client(DEFAULT_TIMEOUT)?,
            base_url: DEFAULT_BASE_URL.to_owned(),
            version: DEFAULT_API_VERSION.to_owned(),
            phone_number_id,
            token,
            clock: Arc::new(SystemClock),
        })
    }

    /// Sets the API base URL (tests point it at a mock server).
    pub fn base_url(mut self, base: impl Into<String>) -> Self {
        self.base_url = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the Graph API version (`v23.0`).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the clock the window is checked against.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the HTTP client with one using `timeout` for the whole request.
    pub fn timeout(mut self, timeout: Duration) -> Result<Self, WhatsAppError> {
        self.http = client(timeout)?;
        Ok(self)
    }

    /// Uses a caller-built HTTP client.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = client;
        self
    }

    /// Whether the customer-service window is open for `message` now.
    pub fn window_open(&self, message: &OutboundMessage) -> bool {
        message
            .meta
            .get(WINDOW_META_KEY)
            .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
            .is_some_and(|until| until.with_timezone(&Utc) > self.clock.now())
    }

    /// The JSON body sent for `message`, or why it cannot be sent (a text outside the
    /// window). A send adds `biz_opaque_callback_data`, the idempotency key.
    pub fn request_body(&self, message: &OutboundMessage) -> Result<Value, SendError> {
        let to = message.to.trim();
        let to = to.strip_prefix("whatsapp:").unwrap_or(to);
        if let Some(t) = &message.template {
            return Ok(template_body(to, t));
        }
        if !self.window_open(message) {
            return Err(SendError::TemplateRequired {
                reason: format!(
                    "the 24-hour customer-service window is not open (meta `{WINDOW_META_KEY}` is missing or past); send an approved template"
                ),
            });
        }
        let preview = message.text.contains("https://") || message.text.contains("http://");
        Ok(json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": { "preview_url": preview, "body": message.text },
        }))
    }
}

fn template_body(to: &str, t: &TemplateRef) -> Value {
    let mut components = Vec::new();
    if !t.body_params.is_empty() {
        let params: Vec<Value> = t
            .body_params
            .iter()
            .map(|p| json!({ "type": "text", "text": p }))
            .collect();
        components.push(json!({ "type": "body", "parameters": params }));
    }
    if let Some(u) = &t.url_button_param {
        components.push(json!({
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [ { "type": "text", "text": u } ],
        }));
    }
    let mut template = json!({
        "name": t.name,
        "language": { "policy": "deterministic", "code": t.language },
    });
    if !components.is_empty() {
        template["components"] = Value::Array(components);
    }
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": template,
    })
}

#[derive(Deserialize)]
struct Sent {
    #[serde(default)]
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

#[async_trait]
impl MessageChannel for WhatsAppCloudChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Whatsapp
    }

    async fn send(
        &self,
        message: &OutboundMessage,
        idempotency_key: &str,
    ) -> Result<Receipt, SendError> {
        let mut body = self.request_body(message)?;
        if !idempotency_key.is_empty() && idempotency_key.chars().count() <= CALLBACK_DATA_MAX {
            body["biz_opaque_callback_data"] = Value::String(idempotency_key.to_owned());
        }
        let url = format!(
            "{}/{}/{}/messages",
            self.base_url, self.version, self.phone_number_id
        );
        let token = String::from_utf8_lossy(self.token.expose());
        let response = self
            .http
            .post(&url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| classify_transport(&e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = response.bytes().await;
        if (200..300).contains(&status) {
            let bytes = bytes.map_err(|e| SendError::MaybeSent {
                reason: format!("Meta accepted the message (HTTP {status}) but its answer could not be read: {e}"),
            })?;
            let sent: Sent = serde_json::from_slice(&bytes).map_err(|e| SendError::MaybeSent {
                reason: format!(
                    "Meta accepted the message (HTTP {status}) but its answer is not readable: {e}"
                ),
            })?;
            let id = sent
                .messages
                .into_iter()
                .next()
                .map(|m| m.id)
                .ok_or_else(|| SendError::MaybeSent {
                    reason: format!(
                        "Meta accepted the message (HTTP {status}) but returned no message id"
                    ),
                })?;
            tracing::debug!(id = %id, "Meta accepted a WhatsApp message");
            return Ok(Receipt::new(id, self.clock.now()));
        }
        let bytes = bytes.map(|b| b.to_vec()).unwrap_or_default();
        let err = classify(status, retry_after, &bytes);
        tracing::warn!(status, error = %err, "Meta refused a WhatsApp message");
        Err(err)
    }
}
