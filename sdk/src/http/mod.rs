//! The HTTP surface (feature `axum`): routers an integrator mounts in their own app.
//!
//! [`WebhookRoutes`] serves `POST /webhooks/{source}`: it reads at most the source's body
//! limit, verifies the raw bytes, stores the webhook in the inbox (de-duplicated by its key,
//! and by its content over [`WebhookRoutes::content_window`]) and only then answers `200`.
//! Processing happens later, from the inbox.
//!
//! The pages ([`tracking`], [`survey`], [`dashboard`]) send the headers of [`headers`]. Serve
//! the routers with [`serve()`] (or [`serve_with_shutdown`]): unlike `axum::serve`, it times
//! out slow headers, slow bodies and idle connections and caps the connections served at
//! once ([`ServeOptions`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::store::{DEFAULT_CONTENT_WINDOW, Inbox, InboxInsert, NewInboxEntry};
use crate::webhook::{RawHeaders, Rejection, WebhookRequest, WebhookSource};

/// Builder of the webhook router.
///
/// A POST that is the sender's own check of the URL (WooCommerce's unsigned ping) is
/// answered by the source's [`WebhookSource::preflight`] without storing anything.
///
/// ```
/// use std::sync::Arc;
/// use aftercare::http::WebhookRoutes;
/// use aftercare::webhook::{NativeSource, Secret};
/// # fn demo(inbox: Arc<dyn aftercare::store::Inbox>) {
/// let router: axum::Router = WebhookRoutes::new(inbox, Arc::new(aftercare::clock::SystemClock))
///     .source("native", Arc::new(NativeSource::new(Secret::from("s3cret"))))
///     .into_router();
/// # }
/// ```
#[derive(Clone)]
pub struct WebhookRoutes {
    inbox: Arc<dyn Inbox>,
    clock: Arc<dyn Clock>,
    sources: HashMap<String, Arc<dyn WebhookSource>>,
    stored: Arc<Notify>,
    content_window: Duration,
}

impl std::fmt::Debug for WebhookRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRoutes")
            .field("sources", &self.sources.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl WebhookRoutes {
    /// Routes storing into `inbox`.
    pub fn new(inbox: Arc<dyn Inbox>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inbox,
            clock,
            sources: HashMap::new(),
            stored: Arc::new(Notify::new()),
            content_window: DEFAULT_CONTENT_WINDOW,
        }
    }

    /// How long a stored webhook's content (source, topic and raw body) makes the same
    /// content a duplicate when it is posted again under another de-duplication id (see
    /// [`Inbox::insert`]). [`DEFAULT_CONTENT_WINDOW`] (72 hours)
    /// unless set; keep it at least as long as the platforms' retry period.
    pub fn content_window(mut self, window: Duration) -> Self {
        self.content_window = window;
        self
    }

    /// Serves a source at `/webhooks/{name}`.
    pub fn source(mut self, name: impl Into<String>, source: Arc<dyn WebhookSource>) -> Self {
        self.sources.insert(name.into(), source);
        self
    }

    /// Notified each time a new webhook is stored, so a processor can wake at once.
    pub fn stored_signal(&self) -> Arc<Notify> {
        self.stored.clone()
    }

    /// The router, with state applied.
    pub fn into_router(self) -> Router {
        Router::new()
            .route("/webhooks/{source}", post(receive).get(handshake))
            .with_state(Arc::new(self))
    }
}

/// The `200` for a stored (or already stored) webhook: the source's own acknowledgement, or
/// a small JSON status.
fn acknowledge(ack: Option<(&'static str, &'static str)>, status: &str, id: i64) -> Response {
    match ack {
        Some((content_type, body)) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => (
            StatusCode::OK,
            axum::Json(json!({ "status": status, "id": id })),
        )
            .into_response(),
    }
}

fn reject(r: &Rejection) -> Response {
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        axum::Json(json!({ "error": r.code(), "message": r.to_string() })),
    )
        .into_response()
}

/// A GET on a webhook URL: the source's subscription handshake, when it has one.
async fn handshake(
    State(routes): State<Arc<WebhookRoutes>>,
    Path(name): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let Some(source) = routes.sources.get(&name).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "unknown_source", "message": format!("no webhook source named `{name}` is configured") })),
        )
            .into_response();
    };
    match source.handshake(query.as_deref().unwrap_or("")) {
        None => (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            axum::Json(json!({ "error": "method_not_allowed", "message": format!("`{name}` webhooks are POSTed") })),
        )
            .into_response(),
        Some(Ok(body)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response(),
        Some(Err(r)) => {
            tracing::warn!(source = %name, reason = %r, "webhook subscription handshake refused");
            reject(&r)
        }
    }
}

async fn receive(
    State(routes): State<Arc<WebhookRoutes>>,
    Path(name): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(source) = routes.sources.get(&name).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "unknown_source", "message": format!("no webhook source named `{name}` is configured") })),
        )
            .into_response();
    };
    let limit = source.max_body_bytes();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared
        && n > limit
    {
        return reject(&Rejection::TooLarge { limit, size: n });
    }
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => {
            let too_large =
                std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            if too_large {
                return reject(&Rejection::TooLarge {
                    limit,
                    size: limit.saturating_add(1),
                });
            }
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": "unreadable_body", "message": "the request body could not be read" })),
            )
                .into_response();
        }
    };
    let mut raw = RawHeaders::from(&headers);
    // The URL's query for senders that authenticate by a token in the URL (Shippo); a
    // header name with `:` cannot arrive over HTTP/1, so it cannot be forged.
    if let Some(q) = query {
        raw.insert(crate::webhook::QUERY_PSEUDO_HEADER, q);
    }
    let received_at = routes.clock.now();
    let req = WebhookRequest {
        headers: &raw,
        body: &bytes,
        received_at,
    };
    match source.preflight(&req) {
        None => {}
        Some(Ok(reply)) => {
            tracing::info!(source = %name, "sender's URL check answered; nothing stored");
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                reply,
            )
                .into_response();
        }
        Some(Err(r)) => {
            tracing::warn!(source = %name, reason = r.code(), "sender's URL check refused");
            return reject(&r);
        }
    }
    let verified = match source.verify(&req) {
        Ok(v) => v,
        Err(r) => {
            tracing::warn!(source = %name, reason = r.code(), "webhook rejected");
            return reject(&r);
        }
    };
    let topic = verified.topic.clone();
    let ack = source.acknowledgement();
    let dedupe_key = verified.dedupe_key.clone();
    let entry = NewInboxEntry::new(name.clone(), verified, bytes.to_vec(), received_at)
        .with_content_window(routes.content_window);
    match routes.inbox.insert(entry).await {
        Ok(InboxInsert::Inserted(id)) => {
            tracing::info!(source = %name, id, topic = topic.as_deref().unwrap_or("-"), "webhook stored");
            routes.stored.notify_waiters();
            acknowledge(ack, "accepted", id)
        }
        Ok(InboxInsert::Duplicate(id)) => {
            tracing::info!(source = %name, id, dedupe_key = %dedupe_key, topic = topic.as_deref().unwrap_or("-"), "duplicate webhook acknowledged (same key, or same content within the window); nothing stored");
            acknowledge(ack, "duplicate", id)
        }
        Err(e) => {
            tracing::error!(source = %name, error = %e, "webhook could not be stored; asking the sender to retry");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                axum::Json(json!({ "error": "storage_unavailable", "message": "the webhook could not be stored; retry later" })),
            )
                .into_response()
        }
    }
}

pub mod comments;
pub mod dashboard;
pub mod headers;
pub mod retention;
pub mod serve;
/// HTML helpers (also available without the `axum` feature as [`crate::html`]).
pub use crate::html;
pub use serve::{ServeOptions, serve, serve_with_shutdown};
pub mod survey;
pub mod tracking;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use axum::http::Request;
    use chrono::{DateTime, Utc};
    use tower::ServiceExt as _;

    use super::*;
    use crate::Error;
    use crate::clock::SystemClock;
    use crate::model::PlatformEvent;
    use crate::store::InboxEntry;
    use crate::webhook::VerifiedWebhook;

    /// Counts what reaches the inbox.
    #[derive(Default)]
    struct Counting(Mutex<Vec<NewInboxEntry>>);

    #[async_trait]
    impl Inbox for Counting {
        async fn insert(&self, entry: NewInboxEntry) -> Result<InboxInsert, Error> {
            let mut v = self.0.lock().unwrap();
            v.push(entry);
            Ok(InboxInsert::Inserted(v.len() as i64))
        }
        async fn claim(
            &self,
            _: DateTime<Utc>,
            _: u32,
            _: std::time::Duration,
        ) -> Result<Vec<InboxEntry>, Error> {
            Ok(Vec::new())
        }
        async fn complete(&self, _: i64, _: DateTime<Utc>) -> Result<(), Error> {
            Ok(())
        }
        async fn retry_at(&self, _: i64, _: DateTime<Utc>, _: &str) -> Result<(), Error> {
            Ok(())
        }
        async fn dead_letter(&self, _: i64, _: &str) -> Result<(), Error> {
            Ok(())
        }
        async fn inbox_entry(&self, _: i64) -> Result<Option<InboxEntry>, Error> {
            Ok(None)
        }
        async fn dead_letters(&self, _: u32) -> Result<Vec<InboxEntry>, Error> {
            Ok(Vec::new())
        }
        async fn requeue(&self, _: i64, _: DateTime<Utc>) -> Result<bool, Error> {
            Ok(false)
        }
    }

    /// Answers `ping` bodies itself, refuses `bad` ones, and accepts everything else.
    struct Pinged;

    impl WebhookSource for Pinged {
        fn verify(&self, _: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
            Ok(VerifiedWebhook::new("k"))
        }
        fn decode(&self, _: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
            Ok(Vec::new())
        }
        fn preflight(&self, r: &WebhookRequest<'_>) -> Option<Result<String, Rejection>> {
            match r.body {
                b"ping" => Some(Ok("pong".into())),
                b"bad" => Some(Err(Rejection::Mismatch)),
                _ => None,
            }
        }
    }

    async fn post(inbox: Arc<Counting>, body: &'static str) -> (StatusCode, String) {
        let app = WebhookRoutes::new(inbox, Arc::new(SystemClock))
            .source("s", Arc::new(Pinged))
            .into_router();
        let resp = app
            .oneshot(Request::post("/webhooks/s").body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn a_preflight_answer_is_sent_and_nothing_is_stored() {
        let inbox = Arc::new(Counting::default());
        assert_eq!(
            post(inbox.clone(), "ping").await,
            (StatusCode::OK, "pong".to_owned())
        );
        assert!(inbox.0.lock().unwrap().is_empty(), "the ping was stored");
        assert_eq!(post(inbox.clone(), "bad").await.0, StatusCode::UNAUTHORIZED);
        assert!(inbox.0.lock().unwrap().is_empty());
        // Anything else goes through verify and is stored.
        assert_eq!(post(inbox.clone(), "{}").await.0, StatusCode::OK);
        assert_eq!(inbox.0.lock().unwrap().len(), 1);
    }
}

/// A page in the shop's colours ([`crate::html::branded_page`]) with `text`'s support label.
pub(crate) fn shell(
    text: &dyn tracking::PageText,
    locale: &str,
    title: &str,
    body: &str,
) -> String {
    crate::html::branded_page(
        locale,
        title,
        body,
        text.branding(),
        &text.text(locale, "page-support"),
    )
}

/// An error page (a link that is wrong, expired or closed; a store that is down) in the
/// customer's language: what happened, the shop that will help, and its support link
/// (`support`, else the branding's).
pub(crate) fn error_page(
    text: &dyn tracking::PageText,
    locale: &str,
    id: &str,
    support: Option<&str>,
) -> String {
    let msg = text.text(locale, id);
    let mut body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n",
        crate::html::escape_isolated(&msg),
        crate::html::escape_isolated(&text.text(locale, "page-error-help"))
    );
    // The footer carries the branding's support link; a page-level one is shown here.
    let footer_link = text.branding().and_then(|b| b.support_link());
    if let Some(s) = support
        .filter(|s| crate::html::safe_url(s))
        .filter(|s| footer_link.as_deref() != Some(*s))
    {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"{}\">{}</a></p>\n",
            crate::html::escape(s),
            crate::html::escape(&text.text(locale, "page-support"))
        ));
    }
    shell(text, locale, &msg, &body)
}

/// The customer's language for a page that knows no order yet (an invalid or expired
/// link): the first of the browser's `Accept-Language` choices the built-in catalogs
/// have (by primary language, `pt` → `pt-BR`), else `fallback`.
pub(crate) fn accepted_locale(headers: &HeaderMap, fallback: &str) -> String {
    let Some(value) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return fallback.to_owned();
    };
    let mut choices: Vec<(f32, usize, &str)> = value
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0 && !tag.is_empty()).then_some((q, i, tag))
        })
        .collect();
    choices.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, tag) in choices {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if let Some(l) = crate::l10n::BUILTIN_LOCALES
            .iter()
            .find(|l| l.split('-').next() == Some(primary.as_str()))
        {
            return (*l).to_owned();
        }
    }
    fallback.to_owned()
}

#[cfg(test)]
mod page_tests {
    use super::accepted_locale;
    use axum::http::{HeaderMap, HeaderValue, header};

    #[test]
    fn the_browsers_language_picks_the_error_pages_locale() {
        let mut h = HeaderMap::new();
        assert_eq!(accepted_locale(&h, "en"), "en");
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE, tr;q=0.8, ar;q=0.9"),
        );
        assert_eq!(accepted_locale(&h, "en"), "ar");
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("pt-PT"));
        assert_eq!(accepted_locale(&h, "en"), "pt-BR");
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("de, fr"));
        assert_eq!(accepted_locale(&h, "es"), "es");
    }
}
