//! The Nuvemshop / Tiendanube app's redirect (`[nuvemshop]`): `GET /nuvemshop/auth?code=...`
//! exchanges the code (valid 5 minutes), records the store the exchange's answer names
//! (`user_id`, never a parameter of the redirect) with its token sealed, makes its webhooks
//! to `/shops/{store_id}/webhooks/nuvemshop` (`app/uninstalled` among them: it stops the
//! store through its inbox like Shopify's) and shows the dashboard key once.
//!
//! No `state`: the API documentation's "Authentication" flow (the authorize URL
//! `https://www.tiendanube.com/apps/{app_id}/authorize`, the redirect with `code`) names no
//! `state` parameter, so there is none to check. A forged redirect can only carry a code
//! the attacker got for a store of theirs: it installs that store, and the page shows that
//! store's own key, never another's.

use std::sync::Arc;

use aftercare::html::{escape, page};
use aftercare_nuvemshop::NuvemshopError;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::Plugin;

#[derive(serde::Deserialize)]
struct Auth {
    #[serde(default)]
    code: String,
}

/// The redirect route, when the plugin has `[nuvemshop]`.
pub fn router(plugin: Arc<Plugin>) -> Router {
    aftercare::http::headers::page_headers(
        Router::new()
            .route("/nuvemshop/auth", get(auth))
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

async fn auth(State(p): State<Arc<Plugin>>, Query(q): Query<Auth>) -> Response {
    let Some(installer) = &p.nuvemshop else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let done = match installer
        .complete(q.code.trim(), p.shared.clock.now())
        .await
    {
        Ok(d) => d,
        Err(NuvemshopError::Api {
            retryable: false,
            message: m,
            ..
        }) => {
            tracing::warn!(reason = %m, "nuvemshop install refused");
            return message(
                StatusCode::FORBIDDEN,
                "Install refused",
                "The code was refused (it is valid 5 minutes, once); install again from your Nuvemshop admin.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "nuvemshop install failed");
            return message(
                StatusCode::BAD_GATEWAY,
                "Not finished",
                "Nuvemshop could not be reached to finish; please try again.",
            );
        }
    };
    let scope = &done.installed.scope;
    if let Err(e) = p.runtime(scope) {
        tracing::error!(shop = %scope.shop(), error = %e, "store's work could not start");
    }
    let base = p.shared.shop_base(scope.shop().as_str());
    let key = String::from_utf8_lossy(done.installed.dashboard_key.expose()).into_owned();
    let body = format!(
        "<main><h1>Aftercare is installed</h1>\
         <p>Store: <strong>{shop}</strong>.</p>\
         <p>Your dashboard: <a href=\"{dash}\">{dash}</a></p>\
         <p>Your dashboard key, shown this once (it is stored encrypted): \
         <code id=\"dashboard-key\">{key}</code></p></main>",
        shop = escape(scope.shop().as_str()),
        dash = escape(&format!("{base}/dashboard")),
        key = escape(&key),
    );
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("en", "Aftercare is installed", &body)),
    )
        .into_response()
}
