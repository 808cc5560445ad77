//! # aftercare-zendesk
//!
//! Zendesk Support as Aftercare's [`Helpdesk`]: follow-up tickets through the Tickets API.
//!
//! - Auth: API token, HTTP Basic `{email}/token:{api_token}`
//!   (developer.zendesk.com, "Security and authentication").
//! - `POST /api/v2/tickets` opens a ticket with the customer as requester (by email; a
//!   phone-only customer is first made a user with `POST /api/v2/users/create_or_update`,
//!   keyed by an `external_id` derived from the number), the order's `external_id`, tags,
//!   priority, and a **private** first comment (`"public": false`: a public one would email
//!   the customer).
//! - `PUT /api/v2/tickets/{id}` adds an internal note (`comment.public = false`) and its tags
//!   (`additional_tags`, which adds, where `tags` would replace) in one request.
//! - `GET /api/v2/tickets?external_id=` finds a ticket created before a crash.
//! - Rate limits: `429` with `Retry-After` (seconds) is waited out and retried (up to
//!   [`ZendeskConfig::max_wait`] per wait, [`ZendeskConfig::attempts`] tries); `5xx` and
//!   network errors on reads and on the idempotent note are retried too. Ticket creation
//!   is not retried after a `5xx` or network error (it may have been created): the flow
//!   looks it up by external id on its next run.
//! - A `closed` ticket cannot be updated (`422`): [`HelpdeskError::Closed`].

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use aftercare::helpdesk::{
    Helpdesk, HelpdeskError, NewTicket, Note, Requester, Ticket, TicketStatus,
};
use aftercare::platform::limits::retry_after;
use aftercare::webhook::Secret;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

/// What went wrong setting up the Zendesk adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZendeskError {
    /// The subdomain, email or token is missing.
    #[error("the Zendesk {0} is empty; see Admin Center > Apps and integrations > Zendesk API")]
    Missing(&'static str),
    /// The base URL does not parse.
    #[error("the Zendesk base URL `{0}` is not a valid URL")]
    BadUrl(String),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// Connection settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ZendeskConfig {
    /// `https://{subdomain}.zendesk.com` (no trailing `/api/v2`).
    pub base_url: String,
    /// The agent's email the token belongs to.
    pub email: String,
    /// The API token.
    pub api_token: Secret,
    /// Longest `Retry-After` waited out in the request; a longer one is returned as
    /// [`HelpdeskError::RateLimited`] for the inbox to retry later. Default 60 s.
    pub max_wait: Duration,
    /// Tries per call (429 and retryable failures). Default 3.
    pub attempts: u32,
    /// Request timeout. Default 20 s.
    pub timeout: Duration,
}

impl ZendeskConfig {
    /// Settings for `https://{subdomain}.zendesk.com`.
    pub fn new(subdomain: &str, email: impl Into<String>, api_token: Secret) -> Self {
        Self::with_base_url(format!("https://{subdomain}.zendesk.com"), email, api_token)
    }

    /// Settings for another base URL (a test stand-in).
    pub fn with_base_url(
        base_url: impl Into<String>,
        email: impl Into<String>,
        api_token: Secret,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            email: email.into(),
            api_token,
            max_wait: Duration::from_secs(60),
            attempts: 3,
            timeout: Duration::from_secs(20),
        }
    }
}

/// The Zendesk [`Helpdesk`].
#[derive(Debug, Clone)]
pub struct ZendeskDesk {
    cfg: ZendeskConfig,
    base: url::Url,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct ApiTicket {
    id: u64,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

impl From<ApiTicket> for Ticket {
    fn from(t: ApiTicket) -> Self {
        let status = match t.status.as_deref() {
            Some("new" | "open" | "pending" | "hold") | None => TicketStatus::Open,
            Some("solved") => TicketStatus::Solved,
            Some("closed") => TicketStatus::Closed,
            Some(other) => TicketStatus::Other(other.to_owned()),
        };
        let mut out = Ticket::new(t.id.to_string(), status);
        out.external_id = t.external_id;
        out.tags = t.tags;
        out
    }
}

/// Whether a request may be repeated after a failure that may have reached Zendesk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeat {
    Safe,
    OnlyThrottled,
}

impl ZendeskDesk {
    /// A desk with these settings.
    pub fn new(cfg: ZendeskConfig) -> Result<Self, ZendeskError> {
        if cfg.email.trim().is_empty() {
            return Err(ZendeskError::Missing("agent email"));
        }
        if cfg.api_token.is_empty() {
            return Err(ZendeskError::Missing("API token"));
        }
        let base = url::Url::parse(cfg.base_url.trim_end_matches('/'))
            .map_err(|_| ZendeskError::BadUrl(cfg.base_url.clone()))?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| ZendeskError::Client(e.to_string()))?;
        Ok(Self { cfg, base, http })
    }

    fn url(&self, path: &str) -> Result<url::Url, HelpdeskError> {
        let mut u = self.base.clone();
        u.set_path(path);
        Ok(u)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<Option<Value>, HelpdeskError> {
        let token = String::from_utf8_lossy(self.cfg.api_token.expose()).into_owned();
        let user = format!("{}/token", self.cfg.email);
        let mut last = HelpdeskError::Transient("no attempt made".into());
        for attempt in 1..=self.cfg.attempts.max(1) {
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .basic_auth(&user, Some(&token))
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = HelpdeskError::Transient(format!("{method} {}: {e}", url.path()));
                    if repeat == Repeat::Safe && attempt < self.cfg.attempts {
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Err(last);
                }
            };
            let status = resp.status().as_u16();
            if status == 429 {
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, chrono::Utc::now()));
                tracing::info!(status, ?wait, path = url.path(), "zendesk rate limited");
                last = HelpdeskError::RateLimited {
                    retry_after_secs: wait.map(|w| w.as_secs()),
                };
                let wait = wait.unwrap_or(Duration::from_secs(1));
                if wait <= self.cfg.max_wait && attempt < self.cfg.attempts {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(last);
            }
            let text = resp.text().await.unwrap_or_default();
            match status {
                200..=299 => {
                    if text.trim().is_empty() {
                        return Ok(Some(Value::Null));
                    }
                    return serde_json::from_str(&text).map(Some).map_err(|e| {
                        HelpdeskError::Transient(format!("unreadable Zendesk answer: {e}"))
                    });
                }
                404 => return Ok(None),
                422 if text.contains("closed") => {
                    return Err(HelpdeskError::Closed(
                        url.path().rsplit('/').next().unwrap_or_default().to_owned(),
                    ));
                }
                409 | 500..=599 => {
                    last = HelpdeskError::Transient(format!("HTTP {status} from Zendesk"));
                    if repeat == Repeat::Safe && attempt < self.cfg.attempts {
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Err(last);
                }
                _ => {
                    return Err(HelpdeskError::Refused {
                        status,
                        message: error_text(&text),
                    });
                }
            }
        }
        Err(last)
    }

    /// The requester part of a new ticket: `{name, email, locale}` inline, or the id of a
    /// user created or updated for a phone-only customer.
    async fn requester(&self, r: &Requester) -> Result<Value, HelpdeskError> {
        if let Some(email) = &r.email {
            let mut v =
                json!({ "email": email, "name": r.name.clone().unwrap_or_else(|| email.clone()) });
            if let Some(l) = &r.locale {
                v["locale"] = json!(l);
            }
            return Ok(json!({ "requester": v }));
        }
        let Some(phone) = &r.phone else {
            return Ok(json!({}));
        };
        let mut user = json!({
            "name": r.name.clone().unwrap_or_else(|| phone.clone()),
            "phone": phone,
            "external_id": phone_external_id(phone),
        });
        if let Some(l) = &r.locale {
            user["locale"] = json!(l);
        }
        let got = self
            .call(
                reqwest::Method::POST,
                self.url("/api/v2/users/create_or_update")?,
                Some(&json!({ "user": user })),
                Repeat::Safe,
            )
            .await?
            .and_then(|v| v["user"]["id"].as_u64())
            .ok_or_else(|| HelpdeskError::Transient("Zendesk returned no user id".into()))?;
        Ok(json!({ "requester_id": got }))
    }
}

/// The Zendesk user `external_id` of a phone-only customer: a hash, no phone number.
pub fn phone_external_id(phone: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(phone.trim().as_bytes());
    format!("aftercare-phone-{}", hex::encode(&d[..8]))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * u64::from(attempt))
}

fn error_text(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let s = v["description"]
        .as_str()
        .or(v["error"].as_str())
        .unwrap_or("")
        .to_owned();
    if s.is_empty() {
        body.chars().take(200).collect()
    } else {
        s
    }
}

#[async_trait]
impl Helpdesk for ZendeskDesk {
    fn name(&self) -> &'static str {
        "zendesk"
    }

    async fn find_ticket(&self, external_id: &str) -> Result<Option<Ticket>, HelpdeskError> {
        let mut u = self.url("/api/v2/tickets")?;
        u.query_pairs_mut().append_pair("external_id", external_id);
        let Some(v) = self
            .call(reqwest::Method::GET, u, None, Repeat::Safe)
            .await?
        else {
            return Ok(None);
        };
        let tickets: Vec<ApiTicket> = serde_json::from_value(v["tickets"].clone())
            .map_err(|e| HelpdeskError::Transient(format!("unreadable ticket list: {e}")))?;
        // The newest: a closed ticket's follow-up was created after it.
        Ok(tickets
            .into_iter()
            .filter(|t| t.external_id.as_deref() == Some(external_id))
            .max_by_key(|t| t.id)
            .map(Ticket::from))
    }

    async fn ticket(&self, id: &str) -> Result<Option<Ticket>, HelpdeskError> {
        let Some(v) = self
            .call(
                reqwest::Method::GET,
                self.url(&format!("/api/v2/tickets/{id}"))?,
                None,
                Repeat::Safe,
            )
            .await?
        else {
            return Ok(None);
        };
        serde_json::from_value::<ApiTicket>(v["ticket"].clone())
            .map(|t| Some(t.into()))
            .map_err(|e| HelpdeskError::Transient(format!("unreadable ticket: {e}")))
    }

    async fn create_ticket(&self, t: &NewTicket) -> Result<Ticket, HelpdeskError> {
        let mut ticket = json!({
            "subject": t.subject,
            "comment": { "body": t.body, "public": false },
            "external_id": t.external_id,
            "tags": t.tags,
            "priority": if t.urgent { "high" } else { "normal" },
        });
        if let Value::Object(extra) = self.requester(&t.requester).await?
            && let Value::Object(m) = &mut ticket
        {
            m.extend(extra);
        }
        let v = self
            .call(
                reqwest::Method::POST,
                self.url("/api/v2/tickets")?,
                Some(&json!({ "ticket": ticket })),
                Repeat::OnlyThrottled,
            )
            .await?
            .ok_or_else(|| HelpdeskError::Transient("Zendesk answered 404 to a create".into()))?;
        serde_json::from_value::<ApiTicket>(v["ticket"].clone())
            .map(Ticket::from)
            .map_err(|e| HelpdeskError::Transient(format!("unreadable created ticket: {e}")))
    }

    async fn add_note(&self, ticket: &Ticket, note: &Note) -> Result<(), HelpdeskError> {
        // Not repeated after an unclear failure (it could add the note twice); only a 429,
        // which Zendesk did not act on. The flow's next run sees the marker tag if it landed.
        self.call(
            reqwest::Method::PUT,
            self.url(&format!("/api/v2/tickets/{}", ticket.id))?,
            Some(&json!({ "ticket": {
                "comment": { "body": note.body, "public": false },
                "additional_tags": note.tags,
            }})),
            Repeat::OnlyThrottled,
        )
        .await?
        .ok_or_else(|| HelpdeskError::Refused {
            status: 404,
            message: format!("ticket {} does not exist", ticket.id),
        })?;
        Ok(())
    }
}
