//! The merchant's own settings page, `/shops/{shop}/settings`: the SMS sending number
//! (`sms_from`), the shop's name and branding (accent colour, logo, support page) and the
//! content map (tutorials per product, SKU or category, as JSON), stored in the registry
//! ([`Tenancy::set_settings`]); the shop's work is rebuilt with them on every instance.
//!
//! - A server-rendered form; no script.
//! - Open to the shop's dashboard key only: `Authorization: Bearer <key>`, or HTTP Basic
//!   with the key as password (the browser asks for it), compared in constant time
//!   ([`admin::authorized`](super::admin::authorized)). Another shop's key opens nothing.
//! - CSRF: the form carries a token signed with the shop's dashboard key for this shop
//!   (one hour); a POST without it, with another shop's, or marked `Sec-Fetch-Site:
//!   cross-site` is refused. (HTTP Basic credentials are sent by the browser on any
//!   request, a cross-site form's included: the token is what a cross-site page cannot
//!   read.)

use std::sync::Arc;

use aftercare::branding::{Accent, Branding};
use aftercare::clock::Clock;
use aftercare::content::ContentMap;
use aftercare::html::{escape, page};
use aftercare::tenancy::{ShopScope, Tenancy};
use aftercare::token::TokenSigner;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

/// The settings keys this page writes (others in the record are kept).
pub const KEYS: [&str; 5] = ["sms_from", "shop_name", "accent", "logo_url", "content"];

struct Page {
    tenancy: Arc<Tenancy>,
    scope: ShopScope,
    clock: Arc<dyn Clock>,
    csrf: TokenSigner,
}

#[derive(Serialize, Deserialize)]
struct Csrf {
    shop: String,
    /// The record's revision the form was made from: a save from an older form is refused
    /// instead of overwriting the change made since.
    #[serde(default)]
    revision: u64,
}

/// The settings page of `scope`'s shop.
pub fn router(tenancy: Arc<Tenancy>, scope: &ShopScope, clock: Arc<dyn Clock>) -> Router {
    let key = scope.dashboard_key();
    let state = Arc::new(Page {
        tenancy,
        csrf: TokenSigner::new(key, "shop-settings-form"),
        scope: scope.clone(),
        clock,
    });
    aftercare::http::headers::page_headers(
        Router::new()
            .route("/settings", get(show).post(save))
            .with_state(state),
    )
}

impl Page {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        // Bearer or Basic, compared in constant time; an empty key opens to no one.
        super::admin::authorized(headers, self.scope.dashboard_key().expose())
    }

    fn render(
        &self,
        status: StatusCode,
        note: Option<&str>,
        form: &Form,
        revision: u64,
    ) -> Response {
        let token = self.csrf.sign(
            &Csrf {
                shop: self.scope.shop().to_string(),
                revision,
            },
            self.clock.now() + chrono::Duration::hours(1),
        );
        let field = |id: &str, label: &str, value: &str, hint: &str| {
            format!(
                "<p><label for=\"{id}\">{label}</label><br>\
                 <input class=\"wide\" id=\"{id}\" name=\"{id}\" value=\"{}\"><br><small>{hint}</small></p>\n",
                escape(value)
            )
        };
        let mut b = format!(
            "<h1>Settings of {}</h1>\n",
            escape(self.scope.shop().as_str())
        );
        if let Some(n) = note {
            b.push_str(&format!(
                "<p role=\"alert\" class=\"card\">{}</p>\n",
                escape(n)
            ));
        }
        b.push_str("<form method=\"post\" action=\"settings\" class=\"card\">\n");
        b.push_str(&format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\n",
            escape(&token)
        ));
        b.push_str(&field(
            "sms_from",
            "SMS sending number",
            &form.sms_from,
            "E.164 (+14155550100); empty: the deployment's number.",
        ));
        b.push_str(&field(
            "shop_name",
            "Shop name",
            &form.shop_name,
            "As customers know it.",
        ));
        b.push_str(&field(
            "accent",
            "Accent colour",
            &form.accent,
            "#rrggbb, readable on white; empty: the default.",
        ));
        b.push_str(&field(
            "logo_url",
            "Logo",
            &form.logo_url,
            "An https:// image; empty: none.",
        ));
        b.push_str(&format!(
            "<p><label for=\"content\">Content map</label><br>\
             <textarea class=\"wide\" id=\"content\" name=\"content\" rows=\"8\">{}</textarea><br>\
             <small>JSON: [{{\"match\": {{\"category\": \"grinders\"}}, \"title\": \"Setting up\", \"url\": \"https://...\"}}]</small></p>\n",
            escape(&form.content)
        ));
        b.push_str("<p><button type=\"submit\" class=\"button\">Save</button></p>\n</form>\n");
        (
            status,
            [(header::CACHE_CONTROL, "no-store")],
            Html(page("en", "Shop settings", &b)),
        )
            .into_response()
    }
}

fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Basic realm=\"shop settings\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "the shop's dashboard key is required",
    )
        .into_response()
}

/// The form's fields.
#[derive(Clone, Debug, Default, Deserialize)]
struct Form {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sms_from: String,
    #[serde(default)]
    shop_name: String,
    #[serde(default)]
    accent: String,
    #[serde(default)]
    logo_url: String,
    #[serde(default)]
    content: String,
}

impl Form {
    fn of(settings: &serde_json::Value) -> Self {
        let s = |k: &str| {
            settings
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            csrf: String::new(),
            sms_from: s("sms_from"),
            shop_name: s("shop_name"),
            accent: s("accent"),
            logo_url: s("logo_url"),
            content: settings
                .get("content")
                .and_then(|c| serde_json::to_string_pretty(c).ok())
                .unwrap_or_default(),
        }
    }

    /// The settings with this form's values, or what is wrong.
    fn apply(&self, mut settings: serde_json::Value) -> Result<serde_json::Value, String> {
        let sms = self.sms_from.trim();
        if !sms.is_empty() && !crate::config::is_e164(sms) {
            return Err(format!("`{sms}` is not an E.164 number (+14155550100)."));
        }
        let name = self.shop_name.trim();
        if name.chars().count() > 100 {
            return Err("The shop name is longer than 100 characters.".into());
        }
        let accent = self.accent.trim();
        if !accent.is_empty() {
            Accent::readable(accent).map_err(|e| format!("Accent colour: {e}."))?;
        }
        let logo = self.logo_url.trim();
        if !logo.is_empty() && !matches!(url::Url::parse(logo), Ok(u) if u.scheme() == "https") {
            return Err("The logo must be an https:// address.".into());
        }
        let content = self.content.trim();
        let content: serde_json::Value = if content.is_empty() {
            serde_json::Value::Null
        } else {
            let map: ContentMap = serde_json::from_str(content)
                .map_err(|e| format!("The content map is not valid: {e}."))?;
            if map.0.iter().any(|e| !aftercare::html::safe_url(&e.url)) {
                return Err("Every content link must be an http(s) address.".into());
            }
            serde_json::to_value(map).map_err(|e| e.to_string())?
        };
        if !settings.is_object() {
            settings = serde_json::json!({});
        }
        let text = |v: &str| {
            if v.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::Value::String(v.to_owned())
            }
        };
        if let Some(o) = settings.as_object_mut() {
            for (k, v) in [
                ("sms_from", text(sms)),
                ("shop_name", text(name)),
                ("accent", text(accent)),
                ("logo_url", text(logo)),
                ("content", content),
            ] {
                if v.is_null() {
                    o.remove(k);
                } else {
                    o.insert(k.to_owned(), v);
                }
            }
        }
        Ok(settings)
    }
}

/// The branding the settings describe, for the shop called `name`.
pub fn branding(name: &str, settings: &serde_json::Value) -> Option<Branding> {
    let accent = settings.get("accent").and_then(|v| v.as_str());
    let logo = settings.get("logo_url").and_then(|v| v.as_str());
    if accent.is_none() && logo.is_none() {
        return None;
    }
    let mut b = Branding::new(name);
    if let Some(a) = accent.and_then(|a| Accent::readable(a).ok()) {
        b = b.accent(a);
    }
    if let Some(l) = logo {
        b = b.logo_url(l);
    }
    Some(b)
}

/// The content map the settings hold, if any.
pub fn content(settings: &serde_json::Value) -> Option<ContentMap> {
    settings
        .get("content")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
}

async fn show(State(p): State<Arc<Page>>, headers: HeaderMap) -> Response {
    if !p.authorized(&headers) {
        return refused();
    }
    // The stored record, not this scope's copy: its revision is what a save must find.
    match p.tenancy.record(p.scope.shop()).await {
        Ok(Some(r)) => p.render(StatusCode::OK, None, &Form::of(&r.settings), r.revision),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(shop = %p.scope.shop(), error = %e, "settings could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn save(
    State(p): State<Arc<Page>>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<Form>,
) -> Response {
    if !p.authorized(&headers) {
        return refused();
    }
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    let token = p
        .csrf
        .verify::<Csrf>(&form.csrf, p.clock.now())
        .ok()
        .filter(|c| c.shop == p.scope.shop().as_str());
    let Some(token) = token.filter(|_| !cross_site) else {
        tracing::warn!(shop = %p.scope.shop(), "settings form refused: no valid CSRF token");
        return (
            StatusCode::FORBIDDEN,
            [(header::CACHE_CONTROL, "no-store")],
            "the form is stale or did not come from this page; reload it",
        )
            .into_response();
    };
    // The stored settings, not this scope's copy (another instance may have saved since).
    let current = match p.tenancy.record(p.scope.shop()).await {
        Ok(Some(r)) => r.settings,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(shop = %p.scope.shop(), error = %e, "settings could not be read");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let next = match form.apply(current) {
        Ok(n) => n,
        Err(why) => return p.render(StatusCode::BAD_REQUEST, Some(&why), &form, token.revision),
    };
    // Saved only over the record the form was made from (compare-and-swap on its revision).
    match p
        .tenancy
        .set_settings(p.scope.shop(), token.revision, next.clone())
        .await
    {
        Ok(true) => p.render(
            StatusCode::OK,
            Some("Saved."),
            &Form::of(&next),
            token.revision.wrapping_add(1),
        ),
        Ok(false) => (
            StatusCode::CONFLICT,
            [(header::CACHE_CONTROL, "no-store")],
            "the settings changed meanwhile (another save, or a new install); reload the page and make your change again",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(shop = %p.scope.shop(), error = %e, "settings could not be saved");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
