//! [`TwilioChannel`]: SMS or WhatsApp through Twilio's Messages API.

use std::collections::BTreeMap;
use std::time::Duration;

use aftercare::channel::{Lookup, MessageChannel, SendError, SentMessage};
use aftercare::model::{ChannelKind, DeliveryStatus, OutboundMessage, Receipt};
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
/// - A send that ended "may have been sent" can be looked up
///   ([`MessageChannel::find_sent`]) in the account's message list:
///   `GET {base}/2010-04-01/Accounts/{AccountSid}/Messages.json?To=..&From=..&DateSent>=YYYY-MM-DD`,
///   following `next_page_uri`, matching outgoing messages with the same `body` created since
///   the message was queued (less [`LOOKUP_SKEW`]). A message sent as a template
///   (`ContentSid`) cannot be matched (Twilio stores the rendered text): unsupported.
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

/// How much earlier than the `since` it is given a look-up accepts a message's
/// `date_created`: Twilio's clock and ours may differ a little.
pub const LOOKUP_SKEW: Duration = Duration::from_secs(5 * 60);

/// The most pages of 100 messages a look-up reads (one recipient, from one day on).
pub const LOOKUP_MAX_PAGES: usize = 20;

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

/// A page of the Messages list resource.
#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    messages: Vec<Listed>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

/// A message in the list.
#[derive(Deserialize)]
struct Listed {
    sid: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error_code: Option<serde_json::Value>,
    #[serde(default)]
    date_created: Option<String>,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    messaging_service_sid: Option<String>,
}

fn rfc2822(d: Option<&str>) -> Option<DateTime<Utc>> {
    d.and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// A listed message's status, as status callbacks name them
/// (`https://www.twilio.com/docs/messaging/api/message-resource#message-status-values`).
fn listed_status(m: &Listed) -> DeliveryStatus {
    match m.status.as_deref().unwrap_or_default() {
        "queued" | "accepted" | "scheduled" | "sending" => DeliveryStatus::Queued,
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" | "undelivered" => DeliveryStatus::Failed {
            code: match &m.error_code {
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                _ => None,
            },
        },
        other => DeliveryStatus::Unknown(other.to_owned()),
    }
}

impl TwilioChannel {
    fn user_password(&self) -> (&str, String) {
        let user = self
            .credentials
            .username
            .as_deref()
            .unwrap_or(&self.account_sid);
        let password = String::from_utf8_lossy(self.credentials.secret.expose()).into_owned();
        (user, password)
    }

    /// Reads one page of the message list.
    async fn list_page(&self, url: &str, query: &[(&str, String)]) -> Result<Page, SendError> {
        let (user, password) = self.user_password();
        let response = self
            .http
            .get(url)
            .query(query)
            .basic_auth(user, Some(password))
            .send()
            .await
            .map_err(|e| {
                SendError::transient(
                    None,
                    format!("Twilio's message list could not be read: {e}"),
                )
            })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let body = response.bytes().await.map_err(|e| {
            SendError::transient(
                None,
                format!("Twilio's message list could not be read: {e}"),
            )
        })?;
        if !(200..300).contains(&status) {
            return Err(match classify(status, retry_after, &body) {
                e @ (SendError::Permanent { .. } | SendError::Transient { .. }) => e,
                other => SendError::transient(retry_after, other.to_string()),
            });
        }
        serde_json::from_slice(&body).map_err(|e| {
            SendError::transient(
                None,
                format!("Twilio's message list is not readable (HTTP {status}): {e}"),
            )
        })
    }
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
        let (user, password) = self.user_password();
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

    async fn find_sent(
        &self,
        message: &OutboundMessage,
        since: DateTime<Utc>,
    ) -> Result<Lookup, SendError> {
        let form = self.form_fields(message)?;
        let Some(text) = form.iter().find(|(k, _)| *k == "Body").map(|(_, v)| v) else {
            // Sent by ContentSid: Twilio keeps the rendered template, nothing to compare.
            return Ok(Lookup::Unsupported);
        };
        let mut query: Vec<(&str, String)> = vec![("To", self.address(&message.to))];
        let service = match &self.sender {
            Sender::Number(n) => {
                query.push(("From", self.address(n)));
                None
            }
            Sender::MessagingService(sid) => Some(sid.as_str()),
        };
        // `DateSent>=2026-03-01` in a URL is the parameter `DateSent>` (as Twilio's
        // libraries send it); the filter has a day's precision, in GMT.
        query.push(("DateSent>", since.format("%Y-%m-%d").to_string()));
        query.push(("PageSize", "100".to_owned()));
        let earliest = since - chrono::Duration::from_std(LOOKUP_SKEW).unwrap_or_default();
        let mut url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base_url, self.account_sid
        );
        let mut found = Vec::new();
        let mut complete = false;
        for page_no in 0..LOOKUP_MAX_PAGES {
            let page = self
                .list_page(&url, if page_no == 0 { &query } else { &[] })
                .await?;
            for m in &page.messages {
                let created = rfc2822(m.date_created.as_deref());
                let ours = m
                    .direction
                    .as_deref()
                    .is_some_and(|d| d.starts_with("outbound"))
                    && m.body.as_deref() == Some(text.as_str())
                    && created.is_some_and(|c| c >= earliest)
                    && service.is_none_or(|s| m.messaging_service_sid.as_deref() == Some(s));
                if let (true, Some(at)) = (ours, created) {
                    found.push(SentMessage::new(
                        Receipt::new(m.sid.clone(), at),
                        listed_status(m),
                    ));
                }
            }
            // Only Twilio's own relative page links are followed (never another host).
            match page.next_page_uri.as_deref() {
                None | Some("") => {
                    complete = true;
                    break;
                }
                Some(next) if next.starts_with('/') => url = format!("{}{next}", self.base_url),
                Some(_) => break,
            }
        }
        tracing::debug!(kind = %self.kind, matches = found.len(), complete, "looked a possibly-sent message up in Twilio's list");
        if found.is_empty() {
            return if complete {
                Ok(Lookup::NotFound)
            } else {
                // Not every page was read: absence proves nothing.
                Err(SendError::transient(
                    None,
                    format!(
                        "Twilio's message list for this recipient has more than {LOOKUP_MAX_PAGES} pages since {}; not all were read",
                        since.format("%Y-%m-%d")
                    ),
                ))
            };
        }
        found.sort_by_key(|f| f.receipt.accepted_at);
        Ok(Lookup::Found(found))
    }
}
