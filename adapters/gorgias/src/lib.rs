//! # aftercare-gorgias
//!
//! Gorgias as Aftercare's [`Helpdesk`] (developers.gorgias.com):
//! - auth: HTTP Basic `{email}:{api_key}` (private integrations);
//! - a ticket is a document with a customer and messages: `POST /api/tickets` with
//!   `customer` (`email`, or a phone `channels` entry), `subject`, `external_id`, `tags`
//!   (`[{"name": …}]`) and one message of channel **`internal-note`** (`from_agent: true`),
//!   so creating it sends nothing to the customer (a message without `internal-note` or
//!   `sent_datetime` would be sent);
//! - `GET /api/tickets?external_id=` finds it again (answer `{"data": [...], "meta"}`);
//! - `POST /api/tickets/{id}/messages` with channel `internal-note` adds a note; `POST
//!   /api/tickets/{id}/tags` with `{"names": [...]}` adds tags;
//! - limits are a leaky bucket (40 requests per 20 s with an API key): `429` with
//!   `Retry-after` is waited out; `X-Gorgias-Account-Api-Call-Limit` is logged.
//!
//! The `external_id` filter on the ticket list and the tags request body are not on a
//! reference page the project could read (marked \[unverified\] in the facts file).

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use aftercare::helpdesk::{Helpdesk, HelpdeskError, NewTicket, Note, Ticket, TicketStatus};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use serde_json::{Value, json};

use aftercare_desk_http::{Http, Repeat};

/// What went wrong setting up the Gorgias adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GorgiasError {
    /// The email or API key is empty.
    #[error("the Gorgias {0} is empty; see Settings > REST API")]
    Missing(&'static str),
    /// The base URL does not parse.
    #[error("the Gorgias base URL `{0}` is not a valid URL")]
    BadUrl(String),
}

/// Connection settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GorgiasConfig {
    /// `https://{domain}.gorgias.com`.
    pub base_url: String,
    /// The account user's email.
    pub email: String,
    /// The REST API key.
    pub api_key: Secret,
    /// Longest `Retry-after` waited out in the request (default 20 s: one bucket window).
    pub max_wait: Duration,
    /// Tries per call (default 3).
    pub attempts: u32,
    /// Request timeout (default 20 s).
    pub timeout: Duration,
}

impl GorgiasConfig {
    /// Settings for `https://{domain}.gorgias.com`.
    pub fn new(domain: &str, email: impl Into<String>, api_key: Secret) -> Self {
        Self::with_base_url(format!("https://{domain}.gorgias.com"), email, api_key)
    }

    /// Settings for another base URL (a test stand-in).
    pub fn with_base_url(
        base_url: impl Into<String>,
        email: impl Into<String>,
        api_key: Secret,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            email: email.into(),
            api_key,
            max_wait: Duration::from_secs(20),
            attempts: 3,
            timeout: Duration::from_secs(20),
        }
    }
}

/// The Gorgias [`Helpdesk`].
#[derive(Clone, Debug)]
pub struct GorgiasDesk {
    base: url::Url,
    http: Http,
}

impl GorgiasDesk {
    /// A desk with these settings.
    pub fn new(cfg: GorgiasConfig) -> Result<Self, GorgiasError> {
        if cfg.email.trim().is_empty() {
            return Err(GorgiasError::Missing("user email"));
        }
        if cfg.api_key.is_empty() {
            return Err(GorgiasError::Missing("API key"));
        }
        let base = url::Url::parse(cfg.base_url.trim_end_matches('/'))
            .map_err(|_| GorgiasError::BadUrl(cfg.base_url.clone()))?;
        Ok(Self {
            base,
            http: Http {
                client: reqwest::Client::builder()
                    .timeout(cfg.timeout)
                    .build()
                    .unwrap_or_default(),
                user: cfg.email,
                password: String::from_utf8_lossy(cfg.api_key.expose()).into_owned(),
                max_wait: cfg.max_wait,
                attempts: cfg.attempts,
                // `X-Gorgias-Account-Api-Call-Limit` counts a 20-second window.
                pace: aftercare_desk_http::Pace::new(Duration::from_secs(20)),
            },
        })
    }

    fn url(&self, path: &str) -> url::Url {
        let mut u = self.base.clone();
        u.set_path(path);
        u
    }
}

fn ticket_of(v: &Value) -> Option<Ticket> {
    let id = v["id"].as_u64()?;
    let status = match v["status"].as_str() {
        Some("closed") => TicketStatus::Solved,
        _ => TicketStatus::Open,
    };
    let mut t = Ticket::new(id.to_string(), status);
    t.external_id = v["external_id"].as_str().map(str::to_owned);
    t.tags = v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["name"].as_str().or(x.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Some(t)
}

fn note_message(body: &str) -> Value {
    json!({
        "channel": "internal-note",
        "via": "api",
        "from_agent": true,
        "body_text": body,
        "body_html": aftercare::html::escape(body).replace('\n', "<br>"),
    })
}

#[async_trait]
impl Helpdesk for GorgiasDesk {
    fn name(&self) -> &'static str {
        "gorgias"
    }

    async fn find_ticket(&self, external_id: &str) -> Result<Option<Ticket>, HelpdeskError> {
        let mut u = self.url("/api/tickets");
        u.query_pairs_mut().append_pair("external_id", external_id);
        let Some(v) = self
            .http
            .call(reqwest::Method::GET, u, None, Repeat::Safe)
            .await?
        else {
            return Ok(None);
        };
        Ok(v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(ticket_of)
            .filter(|t| t.external_id.as_deref() == Some(external_id))
            .max_by_key(|t| t.id.parse::<u64>().unwrap_or(0)))
    }

    async fn ticket(&self, id: &str) -> Result<Option<Ticket>, HelpdeskError> {
        let v = self
            .http
            .call(
                reqwest::Method::GET,
                self.url(&format!("/api/tickets/{id}")),
                None,
                Repeat::Safe,
            )
            .await?;
        Ok(v.as_ref().and_then(ticket_of))
    }

    async fn create_ticket(&self, t: &NewTicket) -> Result<Ticket, HelpdeskError> {
        let mut customer = json!({});
        if let Some(e) = &t.requester.email {
            customer["email"] = json!(e);
        } else if let Some(p) = &t.requester.phone {
            customer["channels"] = json!([{ "type": "phone", "address": p }]);
        }
        if let Some(n) = &t.requester.name {
            customer["name"] = json!(n);
        }
        if let Some(l) = &t.requester.locale {
            customer["language"] = json!(l);
        }
        let mut message = note_message(&t.body);
        message["subject"] = json!(t.subject);
        let body = json!({
            "customer": customer,
            "subject": t.subject,
            "external_id": t.external_id,
            "channel": "api",
            "via": "api",
            "status": "open",
            "priority": if t.urgent { "high" } else { "normal" },
            "tags": t.tags.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>(),
            "messages": [message],
        });
        let v = self
            .http
            .call(
                reqwest::Method::POST,
                self.url("/api/tickets"),
                Some(&body),
                Repeat::OnlyThrottled,
            )
            .await?
            .ok_or_else(|| HelpdeskError::Transient("404 on ticket create".into()))?;
        ticket_of(&v).ok_or_else(|| HelpdeskError::Transient("no ticket id in the answer".into()))
    }

    async fn add_note(&self, ticket: &Ticket, note: &Note) -> Result<(), HelpdeskError> {
        self.http
            .call(
                reqwest::Method::POST,
                self.url(&format!("/api/tickets/{}/messages", ticket.id)),
                Some(&note_message(&note.body)),
                Repeat::OnlyThrottled,
            )
            .await?
            .ok_or_else(|| HelpdeskError::Refused {
                status: 404,
                message: format!("ticket {} does not exist", ticket.id),
            })?;
        if !note.tags.is_empty() {
            self.http
                .call(
                    reqwest::Method::POST,
                    self.url(&format!("/api/tickets/{}/tags", ticket.id)),
                    Some(&json!({ "names": note.tags })),
                    Repeat::Safe,
                )
                .await?;
        }
        Ok(())
    }
}
