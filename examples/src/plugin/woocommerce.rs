//! WooCommerce installs (`[woocommerce]`), through the store's application authentication
//! endpoint (`wc-auth`, WooCommerce REST API docs, "Authentication"):
//!
//! - `GET /woocommerce/install?site=https://shop.example/` → 303 to the store's
//!   `/wc-auth/v1/authorize` with a signed, one-hour `user_id` naming the site.
//! - `POST /woocommerce/callback`: the store posts the keys (JSON). The post is not signed:
//!   [`WooInstaller::complete`] takes the site from our `user_id` only, requires
//!   `read_write`, and proves the keys by making the site's webhooks (to
//!   `/shops/{site}/webhooks/woocommerce`) with them before recording anything.
//! - `GET /woocommerce/return?success=1&user_id=...`: the merchant's browser comes back; the
//!   dashboard key made at the callback is shown once (held in this instance's memory for
//!   the install window: with several instances behind a balancer the return may reach
//!   another one, which then says where the dashboard is without the key).
//!
//! What ends a site's work: WooCommerce sends no uninstall callback. A merchant revoking the
//! keys makes the site's API answer 401, which the shop's health counts as a refused token
//! (`/admin`, `/metrics`); the operator then uninstalls it with `WooInstaller::uninstalled`
//! (no route for that yet; the erasure follows on schedule).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aftercare::html::{escape, page};
use aftercare::webhook::Secret;
use aftercare_woocommerce::WooError;
use aftercare_woocommerce::install::{INSTALL_WINDOW, WooInstaller};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use super::Plugin;

/// A dashboard key waiting: (shop, key, installed at).
type Waiting = (String, Secret, DateTime<Utc>);

/// Dashboard keys waiting for the merchant's return, by the install's `user_id`.
#[derive(Default)]
pub struct Pickups(Mutex<HashMap<String, Waiting>>);

impl std::fmt::Debug for Pickups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pickups").finish_non_exhaustive()
    }
}

impl Pickups {
    fn put(&self, user_id: String, shop: String, key: Secret, now: DateTime<Utc>) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.retain(|_, (_, _, at)| *at + INSTALL_WINDOW > now);
        m.insert(user_id, (shop, key, now));
    }

    fn take(&self, user_id: &str, now: DateTime<Utc>) -> Option<(String, Secret)> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.remove(user_id)
            .filter(|(_, _, at)| *at + INSTALL_WINDOW > now)
            .map(|(s, k, _)| (s, k))
    }
}

/// The three routes, when the plugin has `[woocommerce]`.
pub fn router(plugin: Arc<Plugin>) -> Router {
    aftercare::http::headers::page_headers(
        Router::new()
            .route("/woocommerce/install", get(begin))
            .route("/woocommerce/return", get(back))
            .with_state(plugin.clone()),
    )
    .merge(
        Router::new()
            .route("/woocommerce/callback", post(callback))
            .with_state(plugin),
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

fn installer(p: &Plugin) -> Option<&WooInstaller> {
    p.woocommerce.as_ref()
}

#[derive(serde::Deserialize)]
struct Begin {
    #[serde(default)]
    site: String,
}

async fn begin(State(p): State<Arc<Plugin>>, Query(q): Query<Begin>) -> Response {
    let Some(i) = installer(&p) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match i.begin(q.site.trim(), p.shared.clock.now()) {
        Ok(url) => match HeaderValue::from_str(url.as_str()) {
            Ok(loc) => (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, loc),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
            )
                .into_response(),
            Err(_) => StatusCode::BAD_REQUEST.into_response(),
        },
        Err(e) => message(StatusCode::BAD_REQUEST, "Install refused", &e.to_string()),
    }
}

#[derive(serde::Deserialize)]
struct UserId {
    #[serde(default)]
    user_id: serde_json::Value,
}

fn user_id_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn callback(State(p): State<Arc<Plugin>>, body: Bytes) -> Response {
    let Some(i) = installer(&p) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = p.shared.clock.now();
    let done = match i.complete(&body, now).await {
        Ok(d) => d,
        Err(WooError::Config(why)) => {
            tracing::warn!(reason = %why, "woocommerce keys post refused");
            return (StatusCode::FORBIDDEN, why).into_response();
        }
        Err(e @ WooError::Decode { .. }) => {
            return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
        }
        Err(e) => {
            // The keys did not make the site's webhooks: not recorded.
            tracing::warn!(error = %e, "woocommerce install not finished");
            return (StatusCode::FORBIDDEN, "the keys did not work on the site").into_response();
        }
    };
    let scope = &done.installed.scope;
    if let Err(e) = p.runtime(scope) {
        tracing::error!(shop = %scope.shop(), error = %e, "store's work could not start");
    }
    let user_id = serde_json::from_slice::<UserId>(&body)
        .map(|u| user_id_of(&u.user_id))
        .unwrap_or_default();
    p.woo_pickups.put(
        user_id,
        scope.shop().to_string(),
        done.installed.dashboard_key.clone(),
        now,
    );
    StatusCode::OK.into_response()
}

async fn back(State(p): State<Arc<Plugin>>, Query(q): Query<HashMap<String, String>>) -> Response {
    if installer(&p).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if q.get("success").map(String::as_str) != Some("1") {
        return message(
            StatusCode::OK,
            "Not installed",
            "The store's approval was not given; nothing was installed.",
        );
    }
    let user_id = q.get("user_id").cloned().unwrap_or_default();
    let Some((shop, key)) = p.woo_pickups.take(&user_id, p.shared.clock.now()) else {
        return message(
            StatusCode::OK,
            "Aftercare",
            "If the store accepted the keys, Aftercare is installed; its dashboard key is shown once, on the first return after the install.",
        );
    };
    let dash = format!("{}/dashboard", p.shared.shop_base(&shop));
    let key = String::from_utf8_lossy(key.expose()).into_owned();
    let body = format!(
        "<main><h1>Aftercare is installed</h1>\
         <p>Store: <strong>{shop}</strong>.</p>\
         <p>Your dashboard: <a href=\"{dash}\">{dash}</a></p>\
         <p>Your dashboard key, shown this once (it is stored encrypted): \
         <code id=\"dashboard-key\">{key}</code></p></main>",
        shop = escape(&shop),
        dash = escape(&dash),
        key = escape(&key),
    );
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("en", "Aftercare is installed", &body)),
    )
        .into_response()
}
