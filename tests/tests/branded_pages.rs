//! The shop's branding on the survey pages: its name and logo above, its accent colour
//! (allowed by the Content Security Policy by hash, no script), its support link below; a
//! thank-you page that leads back to the shop (and to a review for a promoter); error pages
//! in the browser's language naming the shop and offering its support link.

use std::sync::Arc;

use aftercare::branding::{Accent, Branding};
use aftercare::clock::{Clock, ManualClock};
use aftercare::http::survey::{SurveyClaims, SurveyPage};
use aftercare::l10n::Catalogs;
use aftercare::model::{ChannelKind, CustomerId, Invitation, OrderId, SurveyKind};
use aftercare::store::SurveyStore;
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_sqlite::SqliteStore;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use tower::ServiceExt as _;

fn branding() -> Branding {
    Branding::new("Dukkan Home")
        .logo_url("https://cdn.dukkan.example/logo.png")
        .accent(Accent::new("#7a1f5c").unwrap())
        .support_url("https://dukkan.example/help")
        .shop_url("https://dukkan.example")
        .review_url("https://reviews.example/dukkan")
}

struct Page {
    router: axum::Router,
    clock: Arc<ManualClock>,
    tokens: TokenSigner,
}

async fn page(kind: SurveyKind, locale: &str) -> Page {
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new("2026-06-01T09:00:00Z".parse().unwrap()));
    let tokens = TokenSigner::new(Secret::from("survey-key"), "survey");
    let inv = {
        let mut invitation = Invitation::new(
            "inv-1",
            kind,
            OrderId::new("1001"),
            ChannelKind::Email,
            locale,
            clock.now(),
            clock.now() + chrono::Duration::days(14),
        );
        invitation.customer_id = Some(CustomerId::new("c-1"));
        invitation
    };
    store.save_invitation(&inv).await.unwrap();
    let text = Arc::new(Catalogs::new("ignored").with_branding(branding()));
    let router =
        SurveyPage::new(Arc::new(store), tokens.clone(), text, clock.clone()).into_router();
    Page {
        router,
        clock,
        tokens,
    }
}

impl Page {
    fn token(&self) -> String {
        self.tokens.sign(
            &SurveyClaims { i: "inv-1".into() },
            self.clock.now() + chrono::Duration::days(14),
        )
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, String, String) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let csp = resp
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let b = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(b.to_vec()).unwrap(), csp)
    }

    async fn answer(&self, score: u8) -> (StatusCode, String, String) {
        self.call(
            Request::post(format!("/s/{}", self.token()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("score={score}")))
                .unwrap(),
        )
        .await
    }
}

/// Every `<style>` of a page is allowed by the policy's hashes, and nothing runs.
fn styles_allowed(html: &str, csp: &str) {
    assert!(
        !csp.contains("script-src") && csp.starts_with("default-src 'none'"),
        "{csp}"
    );
    assert!(!html.contains("<script"), "{html}");
    let mut n = 0;
    for part in html.split("<style>").skip(1) {
        let css = part.split("</style>").next().unwrap();
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css.as_bytes()));
        assert!(
            csp.contains(&format!("'sha256-{hash}'")),
            "a style not in {csp}"
        );
        n += 1;
    }
    assert_eq!(n, 2, "the page's stylesheet and the accent");
}

#[tokio::test]
async fn the_survey_page_wears_the_shops_branding() {
    let p = page(SurveyKind::Csat, "tr").await;
    let (status, html, csp) = p
        .call(
            Request::get(format!("/s/{}", p.token()))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<img src=\"https://cdn.dukkan.example/logo.png\""),
        "{html}"
    );
    assert!(
        html.contains("<span><bdi>Dukkan Home</bdi></span>"),
        "{html}"
    );
    assert!(html.contains("#7a1f5c"), "{html}");
    assert!(
        html.contains("href=\"https://dukkan.example/help\""),
        "{html}"
    );
    // The question names the shop.
    assert!(html.contains("Dukkan Home"), "{html}");
    assert!(csp.contains("img-src https:"), "{csp}");
    styles_allowed(&html, &csp);
}

#[tokio::test]
async fn a_promoter_is_offered_the_review_and_everyone_the_way_back() {
    let p = page(SurveyKind::Nps, "en").await;
    let (status, html, _) = p.answer(10).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("href=\"https://reviews.example/dukkan\""),
        "{html}"
    );
    assert!(html.contains("href=\"https://dukkan.example\""), "{html}");
    assert!(html.contains("Back to Dukkan Home"), "{html}");

    let p = page(SurveyKind::Nps, "en").await;
    let (_, html, _) = p.answer(3).await;
    assert!(
        !html.contains("reviews.example"),
        "a detractor is not asked for a review: {html}"
    );
    assert!(html.contains("href=\"https://dukkan.example\""), "{html}");
}

#[tokio::test]
async fn a_closed_survey_says_so_in_the_browsers_language_with_the_shops_help() {
    let p = page(SurveyKind::Nps, "ar").await;
    let token = p.token();
    p.clock.advance(chrono::Duration::days(30));
    // The token itself has expired: the invitation's locale is unknown, the browser's is.
    let (status, html, csp) = p
        .call(
            Request::get(format!("/s/{token}"))
                .header(header::ACCEPT_LANGUAGE, "ar-SA,ar;q=0.9,en;q=0.5")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("lang=\"ar\" dir=\"rtl\""), "{html}");
    assert!(html.contains("يسعد"), "the help line in Arabic: {html}");
    assert!(html.contains("Dukkan Home"), "{html}");
    assert!(
        html.contains("href=\"https://dukkan.example/help\""),
        "{html}"
    );
    styles_allowed(&html, &csp);
    // A forged link too.
    let (status, html, _) = p
        .call(
            Request::get("/s/forged")
                .header(header::ACCEPT_LANGUAGE, "th-TH")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("lang=\"th\""), "{html}");
    assert!(html.contains("Dukkan Home"), "{html}");
}
