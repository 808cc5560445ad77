//! Every page route — tracking, survey, dashboard, their error pages included — sends the
//! pages' security headers, and the one stylesheet the pages carry is the one the Content
//! Security Policy allows by hash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::flows::feedback::SurveyClaims;
use aftercare::flows::tracking::TrackingClaims;
use aftercare::http::dashboard::{Dashboard, ReportSource};
use aftercare::http::survey::SurveyPage;
use aftercare::http::tracking::TrackingPage;
use aftercare::l10n::Catalogs;
use aftercare::model::{ChannelKind, CustomerId, Invitation, OrderId, SurveyKind};
use aftercare::platform::OrderSource;
use aftercare::report::Report;
use aftercare::store::SurveyStore;
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_sandbox::{CarrierScript, Sandbox};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use tower::ServiceExt as _;

/// Method, path, form body, `Authorization`, expected status.
type Case<'a> = (
    &'a str,
    String,
    Option<(&'a str, String)>,
    Option<&'a str>,
    StatusCode,
);

struct Empty;
#[async_trait]
impl ReportSource for Empty {
    async fn report(&self) -> Result<Report, aftercare::Error> {
        Ok(Report::build(&[], 0))
    }
}

fn assert_page_headers(what: &str, h: &HeaderMap) {
    let get = |n: &str| {
        h.get(n)
            .unwrap_or_else(|| panic!("{what}: no {n}"))
            .to_str()
            .unwrap()
    };
    let csp = get("content-security-policy");
    for directive in [
        "default-src 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            csp.split("; ").any(|d| d == directive),
            "{what}: {directive} in {csp}"
        );
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("script-src"),
        "{what}: {csp}"
    );
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("cache-control"), "no-store", "{what}");
}

/// The page's styles are exactly one `<style>` element whose SHA-256 is the one the policy
/// names, and no `style=` attribute (which a hash cannot allow).
fn assert_styles_allowed(what: &str, h: &HeaderMap, html: &str) {
    assert_eq!(html.matches("<style").count(), 1, "{what}: one stylesheet");
    assert!(!html.contains(" style="), "{what}: no style attribute");
    let start = html.find("<style>").unwrap() + "<style>".len();
    let end = html.find("</style>").unwrap();
    let hash = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(&html.as_bytes()[start..end]));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains(&format!("style-src 'sha256-{hash}'")),
        "{what}: the policy allows the page's stylesheet: {csp}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_route_sends_the_security_headers() {
    let sb = Sandbox::quiet(
        Secret::from("shpss_headers"),
        "2026-03-02T06:00:00Z".parse().unwrap(),
    );
    let clock: Arc<dyn Clock> = sb.clock.clone();
    let text = Arc::new(Catalogs::new("Sandbox Coffee Co."));
    let links = TokenSigner::new(Secret::from("links"), "tracking");
    let surveys = TokenSigner::new(Secret::from("links"), "survey");
    let store = SqliteStore::open_temporary().await.unwrap();
    let shipped = sb.ship("en-US").unwrap();
    sb.scenario(shipped.fulfillment, CarrierScript::happy_path())
        .run_to_end()
        .unwrap();
    let id = OrderId::new(shipped.order.to_string());
    let shipment = sb.shop.shipments(&id).await.unwrap().remove(0);
    let now = clock.now();
    let claims = TrackingClaims {
        o: id.0.clone(),
        s: shipment.id.0.clone(),
    };
    let tracking = links.sign(&claims, now + chrono::Duration::days(30));
    let tracking_expired = links.sign(&claims, now - chrono::Duration::days(1));
    let unknown_order = links.sign(
        &TrackingClaims {
            o: "no-such-order".into(),
            s: "1".into(),
        },
        now + chrono::Duration::days(30),
    );
    let inv = {
        let mut invitation = Invitation::new(
            "inv-h",
            SurveyKind::Nps,
            id.clone(),
            ChannelKind::Email,
            "en",
            now,
            now + chrono::Duration::days(14),
        );
        invitation.customer_id = Some(CustomerId::new("c"));
        invitation
    };
    store.save_invitation(&inv).await.unwrap();
    let survey = surveys.sign(&SurveyClaims { i: inv.id.clone() }, inv.closes_at);
    let survey_expired = surveys.sign(
        &SurveyClaims { i: inv.id.clone() },
        now - chrono::Duration::days(1),
    );

    let app = TrackingPage::new(sb.shop.clone(), links, text.clone(), clock.clone())
        .into_router()
        .merge(
            SurveyPage::new(
                Arc::new(store.clone()),
                surveys,
                text.clone(),
                clock.clone(),
            )
            .into_router(),
        )
        .merge(Dashboard::new(Arc::new(Empty), text, Secret::from("k"), "en").into_router());

    let form = |body: &str| ("application/x-www-form-urlencoded", body.to_owned());
    let cases: Vec<Case<'_>> = vec![
        ("GET", format!("/t/{tracking}"), None, None, StatusCode::OK),
        (
            "GET",
            "/t/forged.token".into(),
            None,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            format!("/t/{tracking_expired}"),
            None,
            None,
            StatusCode::GONE,
        ),
        (
            "GET",
            format!("/t/{unknown_order}"),
            None,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            format!("/s/{survey}?score=9"),
            None,
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/s/forged.token".into(),
            None,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            format!("/s/{survey_expired}"),
            None,
            None,
            StatusCode::GONE,
        ),
        (
            "POST",
            format!("/s/{survey}"),
            Some(form("score=11")),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            format!("/s/{survey}"),
            Some(form("score=9")),
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            "/dashboard".into(),
            None,
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "GET",
            "/dashboard".into(),
            None,
            Some("Bearer k"),
            StatusCode::OK,
        ),
        (
            "GET",
            "/dashboard".into(),
            None,
            Some("Bearer x"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "GET",
            "/dashboard/report.json".into(),
            None,
            Some("Bearer k"),
            StatusCode::OK,
        ),
        (
            "POST",
            "/dashboard/login".into(),
            Some(form("key=x")),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "POST",
            "/dashboard/login".into(),
            Some(form("key=k")),
            None,
            StatusCode::SEE_OTHER,
        ),
        (
            "POST",
            "/dashboard/logout".into(),
            None,
            None,
            StatusCode::SEE_OTHER,
        ),
    ];
    for (method, uri, body, auth, status) in cases {
        let what = format!("{method} {}", uri.chars().take(40).collect::<String>());
        let mut r = Request::builder().method(method).uri(&uri);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        let req = match body {
            Some((content_type, b)) => r
                .header("content-type", content_type)
                .body(Body::from(b))
                .unwrap(),
            None => r.body(Body::empty()).unwrap(),
        };
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), status, "{what}");
        let headers = resp.headers().clone();
        assert_page_headers(&what, &headers);
        let html = String::from_utf8(
            axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        if headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
        {
            assert_styles_allowed(&what, &headers, &html);
        }
    }
}
