//! # aftercare-freshdesk
//!
//! Freshdesk as Aftercare's [`Helpdesk`] (developers.freshdesk.com/api):
//! - auth: HTTP Basic with the agent's **API key** as user name and `X` as password;
//! - `POST /api/v2/tickets` with the requester by `email` or `phone` (and `name`), subject,
//!   HTML `description`, `status` 2 (Open), `priority` 3 (High) or 2, `tags`, and the external
//!   id in a ticket custom field (default `cf_aftercare_id`, a text field to create once in
//!   Admin > Ticket Fields): Freshdesk tickets have no external id of their own;
//! - `GET /api/v2/search/tickets?query="cf_aftercare_id:'…'"` finds it again (the search
//!   index can lag a freshly created ticket by a little: a crash in that gap can still make a
//!   second ticket, which the marker tags then show);
//! - `POST /api/v2/tickets/{id}/notes` with `"private": true` adds the internal note; tags
//!   are merged (`PUT /api/v2/tickets/{id}` with the ticket's tags plus the new ones, since a
//!   `tags` update replaces the set);
//! - rate limits (per account per minute): calls are paced by `X-RateLimit-Total` /
//!   `X-RateLimit-Remaining` (spaced out near the end of the budget, held back when it is
//!   spent) and a `429`'s `Retry-After` is waited out, through `aftercare-desk-http`'s
//!   [`Pace`](aftercare_desk_http::Pace), shared by clones of the desk.
//!
//! Freshdesk emails the requester when a ticket is created unless the "New ticket created"
//! requester notification is off: turn it off if tickets should stay internal.

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use aftercare::helpdesk::{Helpdesk, HelpdeskError, NewTicket, Note, Ticket, TicketStatus};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use serde_json::{Value, json};

use aftercare_desk_http::{Http, Repeat};

/// What went wrong setting up the Freshdesk adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FreshdeskError {
    /// The API key is empty.
    #[error("the Freshdesk API key is empty; see Profile settings > Your API Key")]
    MissingKey,
    /// The base URL does not parse.
    #[error("the Freshdesk base URL `{0}` is not a valid URL")]
    BadUrl(String),
}

/// Connection settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FreshdeskConfig {
    /// `https://{domain}.freshdesk.com`.
    pub base_url: String,
    /// The agent's API key.
    pub api_key: Secret,
    /// The ticket custom field holding the external id.
    pub external_id_field: String,
    /// Longest `Retry-After` waited out in the request (default 60 s).
    pub max_wait: Duration,
    /// Tries per call (default 3).
    pub attempts: u32,
    /// Request timeout (default 20 s).
    pub timeout: Duration,
    /// The window Freshdesk's budget renews in (default a minute, as its plans count).
    pub rate_window: Duration,
}

impl FreshdeskConfig {
    /// Settings for `https://{domain}.freshdesk.com`.
    pub fn new(domain: &str, api_key: Secret) -> Self {
        Self::with_base_url(format!("https://{domain}.freshdesk.com"), api_key)
    }

    /// Settings for another base URL (a test stand-in).
    pub fn with_base_url(base_url: impl Into<String>, api_key: Secret) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            external_id_field: "cf_aftercare_id".into(),
            max_wait: Duration::from_secs(60),
            attempts: 3,
            timeout: Duration::from_secs(20),
            rate_window: Duration::from_secs(60),
        }
    }
}

/// The Freshdesk [`Helpdesk`].
#[derive(Clone, Debug)]
pub struct FreshdeskDesk {
    base: url::Url,
    field: String,
    http: Http,
}

impl FreshdeskDesk {
    /// A desk with these settings.
    pub fn new(cfg: FreshdeskConfig) -> Result<Self, FreshdeskError> {
        if cfg.api_key.is_empty() {
            return Err(FreshdeskError::MissingKey);
        }
        let base = url::Url::parse(cfg.base_url.trim_end_matches('/'))
            .map_err(|_| FreshdeskError::BadUrl(cfg.base_url.clone()))?;
        Ok(Self {
            base,
            field: cfg.external_id_field,
            http: Http {
                client: reqwest::Client::builder()
                    .timeout(cfg.timeout)
                    .build()
                    .unwrap_or_default(),
                user: String::from_utf8_lossy(cfg.api_key.expose()).into_owned(),
                password: "X".into(),
                max_wait: cfg.max_wait,
                attempts: cfg.attempts,
                pace: aftercare_desk_http::Pace::new(cfg.rate_window),
            },
        })
    }

    fn url(&self, path: &str) -> url::Url {
        let mut u = self.base.clone();
        u.set_path(path);
        u
    }

    fn ticket_of(&self, v: &Value) -> Option<Ticket> {
        let id = v["id"].as_u64()?;
        let status = match v["status"].as_u64() {
            Some(2 | 3) => TicketStatus::Open,
            Some(4 | 5) => TicketStatus::Solved,
            Some(n) => TicketStatus::Other(n.to_string()),
            None => TicketStatus::Open,
        };
        let mut t = Ticket::new(id.to_string(), status);
        t.external_id = v["custom_fields"][&self.field].as_str().map(str::to_owned);
        t.tags = v["tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Some(t)
    }
}

#[async_trait]
impl Helpdesk for FreshdeskDesk {
    fn name(&self) -> &'static str {
        "freshdesk"
    }

    async fn find_ticket(&self, external_id: &str) -> Result<Option<Ticket>, HelpdeskError> {
        let mut u = self.url("/api/v2/search/tickets");
        u.query_pairs_mut().append_pair(
            "query",
            &format!("\"{}:'{}'\"", self.field, external_id.replace('\'', "")),
        );
        let Some(v) = self
            .http
            .call(reqwest::Method::GET, u, None, Repeat::Safe)
            .await?
        else {
            return Ok(None);
        };
        Ok(v["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| self.ticket_of(t))
            .filter(|t| t.external_id.as_deref() == Some(external_id))
            .max_by_key(|t| t.id.parse::<u64>().unwrap_or(0)))
    }

    async fn ticket(&self, id: &str) -> Result<Option<Ticket>, HelpdeskError> {
        let v = self
            .http
            .call(
                reqwest::Method::GET,
                self.url(&format!("/api/v2/tickets/{id}")),
                None,
                Repeat::Safe,
            )
            .await?;
        Ok(v.as_ref().and_then(|v| self.ticket_of(v)))
    }

    async fn create_ticket(&self, t: &NewTicket) -> Result<Ticket, HelpdeskError> {
        let mut body = json!({
            "subject": t.subject,
            "description": html(&t.body),
            "status": 2,
            "priority": if t.urgent { 3 } else { 2 },
            "tags": t.tags,
            "custom_fields": { self.field.clone(): t.external_id },
        });
        if let Some(e) = &t.requester.email {
            body["email"] = json!(e);
        } else if let Some(p) = &t.requester.phone {
            body["phone"] = json!(p);
            body["name"] = json!(t.requester.name.clone().unwrap_or_else(|| p.clone()));
        }
        if let Some(n) = &t.requester.name {
            body["name"] = json!(n);
        }
        let v = self
            .http
            .call(
                reqwest::Method::POST,
                self.url("/api/v2/tickets"),
                Some(&body),
                Repeat::OnlyThrottled,
            )
            .await?
            .ok_or_else(|| HelpdeskError::Transient("404 on ticket create".into()))?;
        self.ticket_of(&v)
            .ok_or_else(|| HelpdeskError::Transient("no ticket id in the answer".into()))
    }

    async fn add_note(&self, ticket: &Ticket, note: &Note) -> Result<(), HelpdeskError> {
        self.http
            .call(
                reqwest::Method::POST,
                self.url(&format!("/api/v2/tickets/{}/notes", ticket.id)),
                Some(&json!({ "body": html(&note.body), "private": true })),
                Repeat::OnlyThrottled,
            )
            .await?
            .ok_or_else(|| HelpdeskError::Refused {
                status: 404,
                message: format!("ticket {} does not exist", ticket.id),
            })?;
        let mut tags = ticket.tags.clone();
        for t in &note.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        if tags.len() != ticket.tags.len() {
            self.http
                .call(
                    reqwest::Method::PUT,
                    self.url(&format!("/api/v2/tickets/{}", ticket.id)),
                    Some(&json!({ "tags": tags })),
                    Repeat::Safe,
                )
                .await?;
        }
        Ok(())
    }
}

/// Plain text as Freshdesk's HTML body (escaped, line breaks kept).
fn html(text: &str) -> String {
    let esc = aftercare::html::escape(text);
    esc.lines().map(|l| format!("<p>{l}</p>")).collect()
}
