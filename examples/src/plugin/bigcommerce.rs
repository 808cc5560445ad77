//! The BigCommerce single-click app's callbacks (`[bigcommerce]`): `GET /bigcommerce/auth`
//! (install: the code exchanged, the store recorded with its token sealed, its hooks
//! subscribed to `/shops/{store_hash}/webhooks/bigcommerce`), `GET /bigcommerce/load`,
//! `GET /bigcommerce/uninstall` and `GET /bigcommerce/remove_user` (each with a
//! `signed_payload_jwt` checked before anything is done: HS256 by the app's client secret,
//! `aud` = client id, `iss` = `bc`, expiry, `sub` = `stores/{store_hash}`).
//!
//! BigCommerce shows the auth and load answers in an iframe of the store's control panel;
//! the pages forbid framing unless `[bigcommerce] frame_ancestors` names the origins that
//! may frame them.

use std::sync::Arc;

use aftercare::html::{escape, page};
use aftercare_bigcommerce::BigCommerceError;
use aftercare_bigcommerce::install::AuthCallback;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::Plugin;

#[derive(serde::Deserialize)]
struct Signed {
    #[serde(default)]
    signed_payload_jwt: String,
}

/// The four callbacks, when the plugin has `[bigcommerce]`.
pub fn router(plugin: Arc<Plugin>) -> Router {
    let frame = plugin
        .shared
        .cfg
        .bigcommerce
        .as_ref()
        .map(|b| b.frame_ancestors.clone())
        .unwrap_or_default();
    let pages = aftercare::http::headers::page_headers(
        Router::new()
            .route("/bigcommerce/auth", get(auth))
            .route("/bigcommerce/load", get(load))
            .with_state(plugin.clone()),
    );
    let pages = if frame.is_empty() {
        pages
    } else {
        let csp = aftercare::http::headers::content_security_policy().replace(
            "frame-ancestors 'none'",
            &format!("frame-ancestors {}", frame.join(" ")),
        );
        match HeaderValue::from_str(&csp) {
            Ok(v) => pages.layer(axum::middleware::map_response(move |mut r: Response| {
                let v = v.clone();
                async move {
                    // `frame-ancestors` supersedes `X-Frame-Options` where both are set.
                    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
                    r.headers_mut().remove(header::X_FRAME_OPTIONS);
                    r
                }
            })),
            Err(_) => pages,
        }
    };
    pages.merge(
        Router::new()
            .route("/bigcommerce/uninstall", get(uninstall))
            .route("/bigcommerce/remove_user", get(remove_user))
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

fn refused(e: &BigCommerceError) -> Response {
    match e {
        BigCommerceError::Install(r) => {
            tracing::warn!(reason = %r, "bigcommerce callback refused");
            message(StatusCode::FORBIDDEN, "Refused", &r.to_string())
        }
        e => {
            tracing::error!(error = %e, "bigcommerce callback failed");
            message(
                StatusCode::BAD_GATEWAY,
                "Not finished",
                "BigCommerce could not be reached to finish; please try again.",
            )
        }
    }
}

async fn auth(State(p): State<Arc<Plugin>>, Query(q): Query<AuthCallback>) -> Response {
    let Some(installer) = &p.bigcommerce else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = p.shared.clock.now();
    let done = match installer.complete(&q, now).await {
        Ok(d) => d,
        Err(e) => return refused(&e),
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
         <p>Your dashboard: <a href=\"{dash}\" target=\"_blank\" rel=\"noopener\">{dash}</a></p>\
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

async fn load(State(p): State<Arc<Plugin>>, Query(q): Query<Signed>) -> Response {
    let Some(installer) = &p.bigcommerce else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let claims = match installer
        .load(&q.signed_payload_jwt, p.shared.clock.now())
        .await
    {
        Ok(c) => c,
        Err(e) => return refused(&e),
    };
    let base = p.shared.shop_base(&claims.store_hash);
    let body = format!(
        "<main><h1>Aftercare</h1><p>Store: <strong>{shop}</strong>.</p>\
         <p>Your dashboard (open it with the key shown at install): \
         <a href=\"{dash}\" target=\"_blank\" rel=\"noopener\">{dash}</a></p></main>",
        shop = escape(&claims.store_hash),
        dash = escape(&format!("{base}/dashboard")),
    );
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("en", "Aftercare", &body)),
    )
        .into_response()
}

async fn uninstall(State(p): State<Arc<Plugin>>, Query(q): Query<Signed>) -> Response {
    let Some(installer) = &p.bigcommerce else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match installer
        .uninstall(&q.signed_payload_jwt, p.shared.clock.now())
        .await
    {
        Ok((shop, _)) => {
            // Its work stops here now; other instances stop it at their next sync.
            p.stop(&shop);
            StatusCode::OK.into_response()
        }
        Err(e) => refused(&e),
    }
}

async fn remove_user(State(p): State<Arc<Plugin>>, Query(q): Query<Signed>) -> Response {
    let Some(installer) = &p.bigcommerce else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match installer.remove_user(&q.signed_payload_jwt, p.shared.clock.now()) {
        // Aftercare keeps nothing per control-panel user.
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => refused(&e),
    }
}
