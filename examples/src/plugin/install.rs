//! Install (`/install`, `/auth/callback`) and the app-level compliance webhooks
//! (`/webhooks/shopify/compliance`).
//!
//! **What rests on what.** Shopify signs every shop's webhooks with the app's one client
//! secret, so a valid signature proves the request came from Shopify, not which shop it is
//! about: the `X-Shopify-Shop-Domain` header is not covered by the HMAC. On a shop's own
//! route the source is bound to that shop: a header naming another shop is refused before
//! storing, and the signed body must name the same shop when decoded (`orders/*` and
//! `fulfillments/*` bodies carry no shop, so for them the binding rests on the header and
//! the route; what an attacker would need is Shopify's signature on that body, i.e. a
//! genuine webhook of one of this app's shops replayed under another's header — refused by
//! the binding at verify). On the compliance route every topic carries the shop in its
//! signed body (`shop_domain`): the shop is taken from there, must equal the header's, and
//! must be in the registry.

use std::sync::Arc;

use aftercare::model::{PlatformEvent, ShopId};
use aftercare::tenancy::ShopStatus;
use aftercare::webhook::{RawHeaders, WebhookRequest, WebhookSource as _};
use aftercare_shopify::{ShopifyError, ShopifyWebhooks};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceExt as _;

use super::Plugin;
use aftercare::html::{escape, page};

/// The cookie holding an install's `state` nonce.
pub const STATE_COOKIE: &str = "aftercare_install_state";

/// The app-level compliance route (set it as the compliance webhooks URL in
/// `shopify.app.toml`: `[webhooks] ... compliance_topics`).
pub const COMPLIANCE_PATH: &str = "/webhooks/shopify/compliance";

#[derive(Clone)]
struct Install {
    plugin: Arc<Plugin>,
    shops: Router,
}

/// `/install`, `/auth/callback` and the compliance route; `shops` is the `/shops/{shop}/...`
/// router compliance requests of an installed shop are handed to.
pub fn router(plugin: Arc<Plugin>, shops: Router) -> Router {
    let state = Install { plugin, shops };
    let pages = Router::new()
        .route("/install", get(begin))
        .route("/auth/callback", get(callback))
        .with_state(state.clone());
    aftercare::http::headers::page_headers(pages).merge(
        Router::new()
            .route(COMPLIANCE_PATH, post(compliance))
            .with_state(state),
    )
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<main><h1>{}</h1><p>{}</p></main>",
        escape(title),
        escape(text)
    );
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("en", title, &body)),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct Begin {
    #[serde(default)]
    shop: String,
}

fn secure_cookies(plugin: &Plugin) -> bool {
    plugin.shared.cfg.server.public_url.starts_with("https://")
}

async fn begin(State(s): State<Install>, Query(q): Query<Begin>) -> Response {
    let start = match s.plugin.installer.begin(q.shop.trim()) {
        Ok(start) => start,
        Err(e) => {
            return message(
                StatusCode::BAD_REQUEST,
                "Install refused",
                &format!("{e}. Start the install from your Shopify admin."),
            );
        }
    };
    // The nonce is bound to this browser: the callback must bring the same cookie back.
    let cookie = format!(
        "{STATE_COOKIE}={}; Path=/auth; Max-Age=600; HttpOnly; SameSite=Lax{}",
        start.state,
        if secure_cookies(&s.plugin) {
            "; Secure"
        } else {
            ""
        }
    );
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    if let (Ok(loc), Ok(c)) = (
        HeaderValue::from_str(start.url.as_str()),
        HeaderValue::from_str(&cookie),
    ) {
        h.insert(header::LOCATION, loc);
        h.insert(header::SET_COOKIE, c);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn cookie_state(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == STATE_COOKIE)
        .map(|(_, v)| v.to_owned())
}

async fn callback(State(s): State<Install>, headers: HeaderMap, req: Request<Body>) -> Response {
    let query = req.uri().query().unwrap_or("").to_owned();
    let cookie = cookie_state(&headers);
    let now = s.plugin.shared.clock.now();
    let done = match s
        .plugin
        .installer
        .complete(&query, cookie.as_deref(), now)
        .await
    {
        Ok(d) => d,
        Err(ShopifyError::OAuth(r)) => {
            tracing::warn!(reason = %r, "install callback refused");
            return message(
                StatusCode::FORBIDDEN,
                "Install refused",
                &format!("{r}. Start the install again from your Shopify admin."),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "install failed");
            return message(
                StatusCode::BAD_GATEWAY,
                "Install failed",
                "Shopify could not be reached to finish the install; please try again.",
            );
        }
    };
    let scope = &done.installed.scope;
    if let Err(e) = s.plugin.runtime(scope) {
        tracing::error!(shop = %scope.shop(), error = %e, "shop's work could not start");
    }
    let base = s.plugin.shared.shop_base(scope.shop().as_str());
    let key = String::from_utf8_lossy(done.installed.dashboard_key.expose()).into_owned();
    let body = format!(
        "<main><h1>Aftercare is installed</h1>\
         <p>Shop: <strong>{shop}</strong>.</p>\
         <p>Your dashboard: <a href=\"{dash}\">{dash}</a></p>\
         <p>Your dashboard key, shown this once (it is stored encrypted): \
         <code id=\"dashboard-key\">{key}</code></p></main>",
        shop = escape(scope.shop().as_str()),
        dash = escape(&format!("{base}/dashboard")),
        key = escape(&key),
    );
    let mut r = (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("en", "Aftercare is installed", &body)),
    )
        .into_response();
    if let Ok(c) = HeaderValue::from_str(&format!("{STATE_COOKIE}=; Path=/auth; Max-Age=0")) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

/// The shop a compliance topic's signed body names.
fn compliance_shop(events: &[PlatformEvent]) -> Option<(&'static str, ShopId)> {
    events.iter().find_map(|e| match e {
        PlatformEvent::CustomerDataRequested { shop, .. } => {
            Some(("customers/data_request", shop.clone()))
        }
        PlatformEvent::CustomerRedactRequested { shop, .. } => {
            Some(("customers/redact", shop.clone()))
        }
        PlatformEvent::ShopRedactRequested { shop } => Some(("shop/redact", shop.clone())),
        _ => None,
    })
}

async fn compliance(State(s): State<Install>, headers: HeaderMap, body: Bytes) -> Response {
    let raw = RawHeaders::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
    let now = s.plugin.shared.clock.now();
    // Signed with the app's secret; no shop binding here, the shop comes from the body.
    let source = ShopifyWebhooks::new(s.plugin.shared.app_secret.clone());
    let verified = match source.verify(&WebhookRequest::new(&raw, &body, now)) {
        Ok(v) => v,
        Err(r) => {
            // Shopify requires 401 for a bad HMAC on compliance webhooks.
            let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            return (status, r.to_string()).into_response();
        }
    };
    let topic = verified.topic.as_deref().unwrap_or("");
    // The body must be the topic's payload and name the header's shop.
    let events = match aftercare_shopify::decode_topic(topic, verified.shop.as_deref(), &body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(topic, error = %e, "compliance webhook refused");
            return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
        }
    };
    let Some((topic, shop)) = compliance_shop(&events) else {
        return (
            StatusCode::BAD_REQUEST,
            "not a compliance topic (customers/data_request, customers/redact, shop/redact)",
        )
            .into_response();
    };
    let record = match s.plugin.tenancy().record(&shop).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(shop = %shop, error = %e, "registry unavailable");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    match record.map(|r| r.status) {
        None => {
            // Never installed here: nothing is held for it.
            tracing::warn!(shop = %shop, topic, "compliance webhook for a shop this deployment does not know");
            StatusCode::OK.into_response()
        }
        Some(ShopStatus::Installed) => {
            // Stored in the shop's own inbox through its own route (verified again there,
            // bound to the shop), acted on by its privacy flow and lifecycle.
            let uri = format!("/shops/{shop}/webhooks/shopify");
            let mut req = Request::new(Body::from(body));
            *req.method_mut() = axum::http::Method::POST;
            *req.headers_mut() = headers;
            match uri.parse() {
                Ok(u) => *req.uri_mut() = u,
                Err(_) => return StatusCode::BAD_REQUEST.into_response(),
            }
            match s.shops.clone().oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            }
        }
        Some(ShopStatus::Uninstalled) if topic == "shop/redact" => {
            match s.plugin.tenancy().erase(&shop).await {
                Ok(_) => StatusCode::OK.into_response(),
                Err(e) => {
                    tracing::error!(shop = %shop, error = %e, "shop erasure failed");
                    StatusCode::SERVICE_UNAVAILABLE.into_response()
                }
            }
        }
        Some(_) => {
            // Uninstalled (its whole store is erased on schedule, 48 hours after the
            // uninstall) or already erased: nothing else to do.
            tracing::info!(shop = %shop, topic, "compliance webhook for a shop not installed");
            StatusCode::OK.into_response()
        }
    }
}
