//! The operator's view: `GET /admin` (every shop with its install state and health, an HTML
//! page without scripts) and `GET /metrics` (the same figures in the Prometheus text
//! format), both behind the admin key: `Authorization: Bearer <key>`, or HTTP Basic with the
//! key as password (a browser asks for it), compared in constant time.

use std::fmt::Write as _;
use std::sync::Arc;

use aftercare::html::{escape, page};
use aftercare::model::ShopId;
use aftercare::tenancy::{ShopHealth, ShopRecord, ShopStatus, prometheus};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use super::Plugin;

/// `/admin` and `/metrics`.
pub fn router(plugin: Arc<Plugin>) -> Router {
    let pages = Router::new()
        .route("/admin", get(admin))
        .with_state(plugin.clone());
    aftercare::http::headers::page_headers(pages).merge(
        Router::new()
            .route("/metrics", get(metrics))
            .with_state(plugin),
    )
}

/// Whether the request carries the admin key. Both sides are MACed under a fixed key and
/// compared with `verify_slice`, in constant time, so neither the key's length nor its
/// bytes show in the timing.
pub fn authorized(headers: &HeaderMap, key: &[u8]) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let presented: Vec<u8> = if let Some(t) = value.strip_prefix("Bearer ") {
        t.trim().as_bytes().to_vec()
    } else if let Some(b) = value.strip_prefix("Basic ") {
        match base64::engine::general_purpose::STANDARD.decode(b.trim()) {
            Ok(pair) => match pair.iter().position(|c| *c == b':') {
                Some(i) => pair[i + 1..].to_vec(),
                None => return false,
            },
            Err(_) => return false,
        }
    } else {
        return false;
    };
    if key.is_empty() || presented.is_empty() {
        return false;
    }
    let mac = |v: &[u8]| {
        let mut m = Hmac::<Sha256>::new_from_slice(b"aftercare-admin-key")
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        m.update(v);
        m
    };
    let expected = mac(key).finalize().into_bytes();
    mac(&presented).verify_slice(&expected).is_ok()
}

fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Basic realm=\"aftercare admin\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "the admin key is required",
    )
        .into_response()
}

/// Every shop's record with, for an installed shop, its health: the deployment's figures
/// (this instance's latest counts flushed first, then every instance's sum read from the
/// registry).
pub async fn shops_health(
    plugin: &Plugin,
) -> Result<Vec<(ShopRecord, Option<ShopHealth>)>, aftercare::Error> {
    plugin.flush_health().await;
    let mut out = Vec::new();
    for record in plugin.tenancy().records().await? {
        let health = if record.status == ShopStatus::Installed {
            let scope = plugin.tenancy().scope(&record.shop).await?;
            let h = ShopHealth::of(&scope).await?;
            Some(plugin.tenancy().health_counts(&record.shop).await?.apply(h))
        } else {
            None
        };
        out.push((record, health));
    }
    Ok(out)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

async fn admin(State(plugin): State<Arc<Plugin>>, headers: HeaderMap) -> Response {
    if !authorized(&headers, plugin.admin_key.expose()) {
        return refused();
    }
    let shops = match shops_health(&plugin).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "admin view failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let installed = shops
        .iter()
        .filter(|(r, _)| r.status == ShopStatus::Installed)
        .count();
    let mut rows = String::new();
    for (r, h) in &shops {
        let state = r.status.as_str();
        let cells = match h {
            Some(h) => format!(
                "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                h.webhook_failures,
                h.webhook_dead_letters,
                h.provider_errors,
                h.messages_dead,
                h.messages_uncertain,
                h.messages_pending,
                yes_no(h.has_access_token),
                yes_no(h.token_rejected),
            ),
            None => "<td colspan=\"8\">no work runs</td>".to_owned(),
        };
        let attention = h.as_ref().is_some_and(|h| {
            h.webhook_dead_letters > 0
                || h.messages_dead > 0
                || h.token_rejected
                || !h.has_access_token
        });
        let _ = write!(
            rows,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}{}</td><td>{}</td>{cells}</tr>",
            escape(r.shop.as_str()),
            escape(&r.platform),
            state,
            if attention {
                " — needs attention"
            } else {
                ""
            },
            escape(&r.installed_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        );
    }
    let body = format!(
        "<main><h1>Shops</h1><p>{installed} installed, {total} recorded.</p>\
         <table><caption>Every shop of this deployment and its health (failures counted by \
         every instance; dead letters and messages from each shop's store)</caption>\
         <thead><tr><th scope=\"col\">Shop</th><th scope=\"col\">Platform</th>\
         <th scope=\"col\">State</th><th scope=\"col\">Installed</th>\
         <th scope=\"col\">Webhook failures</th><th scope=\"col\">Webhook dead letters</th>\
         <th scope=\"col\">Provider errors</th><th scope=\"col\">Messages dead</th>\
         <th scope=\"col\">Messages uncertain</th><th scope=\"col\">Backlog (messages waiting)</th>\
         <th scope=\"col\">Access token</th><th scope=\"col\">Token refused</th></tr></thead>\
         <tbody>{rows}</tbody></table><p><a href=\"/metrics\">Metrics</a></p></main>",
        total = shops.len(),
    );
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("en", "Aftercare shops", &body)),
    )
        .into_response()
}

async fn metrics(State(plugin): State<Arc<Plugin>>, headers: HeaderMap) -> Response {
    if !authorized(&headers, plugin.admin_key.expose()) {
        return refused();
    }
    let shops = match shops_health(&plugin).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "metrics failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let health: Vec<(ShopId, ShopHealth)> = shops
        .iter()
        .filter_map(|(r, h)| h.clone().map(|h| (r.shop.clone(), h)))
        .collect();
    let mut text = String::new();
    text.push_str("# HELP aftercare_shops Shops recorded, by install state.\n");
    text.push_str("# TYPE aftercare_shops gauge\n");
    for status in [
        ShopStatus::Installed,
        ShopStatus::Uninstalled,
        ShopStatus::Erased,
    ] {
        let n = shops.iter().filter(|(r, _)| r.status == status).count();
        let _ = writeln!(text, "aftercare_shops{{state=\"{}\"}} {n}", status.as_str());
    }
    text.push_str(&prometheus(&health));
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
