//! [`TwilioChannel`]: SMS or WhatsApp through Twilio's Messages API.

use std::collections::BTreeMap;
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Receipt};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::TwilioError;
use crate::errors::{classify, classify_transport, parse_retry_after};

/// Twilio's production API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// The HTTP Basic credentials for Twilio's REST API. The secret never appears in `Debug`.
#[derive(Clone)]
pub struct Credentials {
    username: Option<String>,
    secret: Secret,
}

impl Credentials {
    /// The account's Auth Token; the username is the Account SID.
    pub fn auth_token(token: impl Into<Secret>) -> Self {
        Self {
            username: None,
            secret: token.into(),
        }
    }

    /// An API key (`SK...`) and its secret, the recommended credentials for production.
    pub fn api_key(key_sid: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            username: Some(key_sid.into()),
            secret: secret.into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.username {
            Some(k) => write!(f, "Credentials::ApiKey({k}, ***)"),
            None => f.write_str("Credentials::AuthToken(***)"),
        }
    }
}

/// Who a message is sent from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sender {
    /// A Twilio number (E.164), sent as `From` (with `whatsapp:` added on WhatsApp).
    Number(String),
    /// A Messaging Service (`MG...`), sent as `MessagingServiceSid`; Twilio picks the number.
    MessagingService(String),
}

/// SMS or WhatsApp through Twilio: one instance per [`ChannelKind`].
///
/// - `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic.
/// - A WhatsApp message whose `template` is set is sent as `ContentSid` +
///   `ContentVariables` (`{"1": body_params[0], "2": ..., then the URL button parameter}`);
///   the template maps to a ContentSid through [`TwilioChannel::content_sid`] (looked up as
///   `name:language` first, then `name`). Any other message is sent as `Body`.
/// - The receipt is Twilio's `sid`.
///
/// ```
/// use aftercare_twilio::{TwilioChannel, Credentials, Sender};
/// let ch = TwilioChannel::whatsapp(
///     "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
///     Credentials::auth_token("your_auth_token"),
///     Sender::Number("+14155238886".into()),
/// )
/// .unwrap()
/// .content_sid("order_shipped", "HXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
/// .status_callback("https://shop.example/webhooks/twilio");
/// assert!(!format!("{ch:?}").contains("your_auth_token"));
/// ```
#[derive(Clone)]
pub struct TwilioChannel {
    kind: ChannelKind,
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    credentials: Credentials,
    sender: Sender,
    status_callback: Option<String>,
    content_sids: BTreeMap<String, String>,
}

impl std::fmt::Debug for TwilioChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioChannel")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("credentials", &self.credentials)
            .field("sender", &self.sender)
            .field("status_callback", &self.status_callback)
            .field("templates", &self.content_sids.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The default timeout of a send request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl TwilioChannel {
    /// An SMS channel.
    pub fn sms(
        account_sid: impl Into<String>,
        credentials: Credentials,
        sender: Sender,
    ) -> Result<Self, TwilioError> {
        Self::new(ChannelKind::Sms, account_sid, credentials, sender)
    }

    /// A WhatsApp channel (addresses are sent as `whatsapp:+...`).
    pub fn whatsapp(
        account_sid: impl Into<String>,
        credentials: Credentials,
        sender: Sender,
    ) -> Result<Self, TwilioError> {
        Self::new(ChannelKind::Whatsapp, account_sid, credentials, sender)
    }

    /// A channel of `kind` (SMS or WhatsApp).
    pub fn new(
        kind: ChannelKind,
        account_sid: impl Into<String>,
        credentials: Credentials,
        sender: Sender,
    ) -> Result<Self, TwilioError> {
        if !matches!(kind, ChannelKind::Sms | ChannelKind::Whatsapp) {
            return Err(TwilioError::UnsupportedChannel(kind));
        }
        let account_sid = account_sid.into();
        if account_sid.is_empty() || credentials.secret.is_empty() {
            return Err(TwilioError::MissingCredentials);
        }
        let http = reqwest::Client::builder()
            .timeout(DEFAULT_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| TwilioError::HttpClient(e.to_string()))?;
        Ok(Self {
            kind,
            http,
            base_url: DEFAULT_BASE_URL.to_owned(),
            account_sid,
            credentials,
            sender,
            status_callback: None,
            content_sids: BTreeMap::new(),
        })
    }

    /// Sets the API base URL (tests point it at a mock server). No trailing slash needed.
    pub fn base_url(mut self, base: impl Into<String>) -> Self {
        self.base_url = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the URL that receives status callbacks (`StatusCallback`).
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    /// Maps a template name (or `name:language`) to a Twilio Content SID (`HX...`).
    pub fn content_sid(mut self, template: impl Into<String>, sid: impl Into<String>) -> Self {
        self.content_sids.insert(template.into(), sid.into());
        self
    }

    /// Uses a caller-built HTTP client (its own timeouts, proxy...).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = client;
        self
    }

    /// Replaces the HTTP client with one using `timeout` for the whole request.
    pub fn timeout(mut self, timeout: Duration) -> Result<Self, TwilioError> {
        self.http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| TwilioError::HttpClient(e.to_string()))?;
        Ok(self)
    }

    fn address(&self, a: &str) -> String {
        let a = a.trim();
        if self.kind == ChannelKind::Whatsapp && !a.starts_with("whatsapp:") {
            format!("whatsapp:{a}")
        } else {
            a.to_owned()
        }
    }

    /// The form fields sent for `message`, in order. Public so an integrator can check what
    /// would be sent without sending it.
    pub fn form_fields(
        &self,
        message: &OutboundMessage,
    ) -> Result<Vec<(&'static str, String)>, SendError> {
        let mut form: Vec<(&'static str, String)> = vec![("To", self.address(&message.to))];
        match &self.sender {
            Sender::Number(n) => form.push(("From", self.address(n))),
            Sender::MessagingService(sid) => form.push(("MessagingServiceSid", sid.clone())),
        }
        match (&message.template, self.kind) {
            (Some(t), ChannelKind::Whatsapp) => {
                let keyed = format!("{}:{}", t.name, t.language);
                let sid = self
                    .content_sids
                    .get(&keyed)
                    .or_else(|| self.content_sids.get(&t.name))
                    .ok_or_else(|| {
                        SendError::permanent(
                            None,
                            format!(
                                "no Twilio ContentSid is configured for template `{}` ({}); add it with TwilioChannel::content_sid",
                                t.name, t.language
                            ),
                        )
                    })?;
                let mut vars = serde_json::Map::new();
                for (i, p) in t
                    .body_params
                    .iter()
                    .chain(t.url_button_param.iter())
                    .enumerate()
                {
                    vars.insert((i + 1).to_string(), serde_json::Value::String(p.clone()));
                }
                form.push(("ContentSid", sid.clone()));
                form.push((
                    "ContentVariables",
                    serde_json::Value::Object(vars).to_string(),
                ));
            }
            _ => form.push(("Body", message.text.clone())),
        }
        if let Some(cb) = &self.status_callback {
            form.push(("StatusCallback", cb.clone()));
        }
        Ok(form)
    }
}

#[derive(Deserialize)]
struct Created {
    sid: String,
    #[serde(default)]
    date_created: Option<String>,
}

#[async_trait]
impl MessageChannel for TwilioChannel {
    fn kind(&self) -> ChannelKind {
        self.kind
    }

    async fn send(
        &self,
        message: &OutboundMessage,
        _idempotency_key: &str,
    ) -> Result<Receipt, SendError> {
        let form = self.form_fields(message)?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base_url, self.account_sid
        );
        let user = self
            .credentials
            .username
            .as_deref()
            .unwrap_or(&self.account_sid);
        let password = String::from_utf8_lossy(self.credentials.secret.expose());
        let response = self
            .http
            .post(&url)
            .basic_auth(user, Some(password))
            .form(&form)
            .send()
            .await
            .map_err(|e| classify_transport(&e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let body = response.bytes().await;
        if (200..300).contains(&status) {
            let body = body.map_err(|e| SendError::MaybeSent {
                reason: format!("Twilio accepted the message (HTTP {status}) but its answer could not be read: {e}"),
            })?;
            let created: Created = serde_json::from_slice(&body).map_err(|e| SendError::MaybeSent {
                reason: format!("Twilio accepted the message (HTTP {status}) but its answer has no readable `sid`: {e}"),
            })?;
            let at = created
                .date_created
                .as_deref()
                .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                .map_or_else(Utc::now, |d| d.with_timezone(&Utc));
            tracing::debug!(sid = %created.sid, kind = %self.kind, "Twilio accepted a message");
            return Ok(Receipt::new(created.sid, at));
        }
        let body = body.map(|b| b.to_vec()).unwrap_or_default();
        let err = classify(status, retry_after, &body);
        tracing::warn!(status, error = %err, kind = %self.kind, "Twilio refused a message");
        Err(err)
    }
}
