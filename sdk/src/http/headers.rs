//! The response headers every page router sends, as one layer: [`page_headers`].
//!
//! The pages run no script, load nothing from elsewhere and carry capability tokens in their
//! URLs, so the policy is as tight as they allow:
//!
//! - `Content-Security-Policy`: `default-src 'none'` (no script, image, font, frame or
//!   connection), styles only from the one inline stylesheet of the page shell, allowed by
//!   its SHA-256 hash ([`html::STYLE`](crate::html::STYLE); no `style=` attribute is
//!   used), `form-action 'self'` (the survey and sign-in forms post to this server),
//!   `base-uri 'none'`, `frame-ancestors 'none'`;
//! - `X-Frame-Options: DENY` (framing protection for browsers without `frame-ancestors`);
//! - `X-Content-Type-Options: nosniff`;
//! - `Referrer-Policy: no-referrer`: a link followed from a page (the carrier's, a
//!   tutorial) must not carry the page's URL and its token to another site;
//! - `Cache-Control: no-store` unless the handler set one: pages are personal.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

/// The `Content-Security-Policy` of the pages.
///
/// ```
/// let csp = aftercare::http::headers::content_security_policy();
/// assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
/// assert!(csp.ends_with("form-action 'self'; base-uri 'none'; frame-ancestors 'none'"));
/// ```
pub fn content_security_policy() -> &'static str {
    static CSP: LazyLock<String> = LazyLock::new(|| {
        let hash = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(crate::html::STYLE.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
    });
    &CSP
}

/// The `Content-Security-Policy` of pages in the shop's colours
/// ([`html::branded_page`](crate::html::branded_page)): the accent stylesheet allowed by
/// its hash too, and, with a logo, images from `https:` (nothing else is loaded; no
/// script ever).
///
/// ```
/// use aftercare::branding::Branding;
/// let b = Branding::new("Dukkan").logo_url("https://cdn.dukkan.example/logo.png");
/// let csp = aftercare::http::headers::content_security_policy_for(Some(&b));
/// assert!(csp.contains("img-src https:"));
/// assert!(!csp.contains("script-src"));
/// assert_eq!(
///     aftercare::http::headers::content_security_policy_for(None),
///     aftercare::http::headers::content_security_policy()
/// );
/// ```
pub fn content_security_policy_for(branding: Option<&crate::branding::Branding>) -> String {
    policy(branding, false)
}

/// [`content_security_policy_for`] of a page that shows pictures from elsewhere (the
/// tracking page's product pictures): images from `https:` allowed, whatever the branding.
///
/// ```
/// let csp = aftercare::http::headers::content_security_policy_with_images(None);
/// assert!(csp.contains("; img-src https:;"));
/// assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
/// ```
pub fn content_security_policy_with_images(branding: Option<&crate::branding::Branding>) -> String {
    policy(branding, true)
}

fn policy(branding: Option<&crate::branding::Branding>, images: bool) -> String {
    let hash =
        |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()));
    let styles = match branding {
        None if !images => return content_security_policy().to_owned(),
        None => format!("'sha256-{}'", hash(crate::html::STYLE)),
        Some(b) => format!(
            "'sha256-{}' 'sha256-{}'",
            hash(crate::html::STYLE),
            hash(&b.style())
        ),
    };
    let img = if images || branding.is_some_and(|b| b.logo().is_some()) {
        " img-src https:;"
    } else {
        ""
    };
    format!(
        "default-src 'none'; style-src {styles};{img} form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// `router` with the pages' headers on every response it gives (error pages included).
pub fn page_headers(router: Router) -> Router {
    page_headers_for(router, None)
}

/// [`page_headers`] for pages in the shop's colours
/// ([`content_security_policy_for`]).
pub fn page_headers_for(router: Router, branding: Option<&crate::branding::Branding>) -> Router {
    with_policy(router, &content_security_policy_for(branding))
}

/// [`page_headers_for`] for a page showing pictures from `https:`
/// ([`content_security_policy_with_images`]).
pub fn page_headers_with_images(
    router: Router,
    branding: Option<&crate::branding::Branding>,
) -> Router {
    with_policy(router, &content_security_policy_with_images(branding))
}

fn with_policy(router: Router, csp: &str) -> Router {
    let csp = HeaderValue::from_str(csp)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    router
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
