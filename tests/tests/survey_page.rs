//! The survey page over real SQLite through the router: scanner-safe GETs, one-click
//! preselection, a double submission counted once, forged/expired/replayed tokens refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aftercare::clock::{Clock, ManualClock};
use aftercare::http::survey::{AnswerHook, SurveyClaims, SurveyPage};
use aftercare::http::tracking::PageText;
use aftercare::model::{ChannelKind, CustomerId, Invitation, OrderId, SurveyKind, SurveyResponse};
use aftercare::store::SurveyStore;
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;

struct Ids;
impl PageText for Ids {
    fn text(&self, locale: &str, id: &str) -> String {
        format!("[{locale}:{id}]")
    }
}

#[derive(Default)]
struct Hook(Mutex<Vec<u8>>);
#[async_trait]
impl AnswerHook for Hook {
    async fn answered(&self, r: &SurveyResponse) {
        self.0.lock().unwrap().push(r.score);
    }
}

struct Fixture {
    store: SqliteStore,
    clock: Arc<ManualClock>,
    tokens: TokenSigner,
    hook: Arc<Hook>,
    router: axum::Router,
}

async fn fixture(locale: &str) -> (Fixture, String) {
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new("2026-06-01T09:00:00Z".parse().unwrap()));
    let tokens = TokenSigner::new(Secret::from("survey-key"), "survey");
    let inv = {
        let mut invitation = Invitation::new(
            "inv-1",
            SurveyKind::Nps,
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
    let token = tokens.sign(&SurveyClaims { i: "inv-1".into() }, inv.closes_at);
    let hook = Arc::new(Hook::default());
    let router = SurveyPage::new(
        Arc::new(store.clone()),
        tokens.clone(),
        Arc::new(Ids),
        clock.clone(),
    )
    .on_answer(hook.clone())
    .into_router();
    (
        Fixture {
            store,
            clock,
            tokens,
            hook,
            router,
        },
        token,
    )
}

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let s = resp.status();
    let b = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (s, String::from_utf8(b.to_vec()).unwrap())
}

fn post(token: &str, form: &str) -> Request<Body> {
    Request::post(format!("/s/{token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

async fn answers(store: &SqliteStore) -> Vec<SurveyResponse> {
    store
        .responses_between(
            "2026-01-01T00:00:00Z".parse().unwrap(),
            "2027-01-01T00:00:00Z".parse().unwrap(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_scanner_get_records_nothing_and_one_click_preselects() {
    let (f, token) = fixture("en").await;
    let (s, body) = call(
        &f.router,
        Request::get(format!("/s/{token}?score=9"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains(r#"value="9" required checked"#),
        "9 is preselected"
    );
    assert!(body.contains("[en:survey-confirm-hint]"));
    assert_eq!(body.matches(r#"type="radio""#).count(), 11, "0 to 10");
    assert!(
        answers(&f.store).await.is_empty(),
        "a GET never records an answer"
    );
    let (s, body) = call(
        &f.router,
        Request::get(format!("/s/{token}?score=42"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !body.contains("required checked"),
        "an out-of-range score preselects nothing"
    );
}

#[tokio::test]
async fn a_post_records_once_and_a_double_submission_counts_once() {
    let (f, token) = fixture("en").await;
    let (s, body) = call(
        &f.router,
        post(&token, "score=3&comment=Late+and+the+box+was+damaged"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("[en:survey-thanks]"));
    let (s, body) = call(&f.router, post(&token, "score=10")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains("[en:survey-already-answered]"),
        "replaying the link does not answer again"
    );
    let a = answers(&f.store).await;
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].score, a[0].comment.as_deref(), a[0].via.as_str()),
        (3, Some("Late and the box was damaged"), "web")
    );
    assert_eq!(
        *f.hook.0.lock().unwrap(),
        vec![3],
        "the follow-up runs once"
    );
    let (_, body) = call(
        &f.router,
        Request::get(format!("/s/{token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(body.contains("survey-already-answered"));
}

#[tokio::test]
async fn bad_scores_are_asked_again_without_recording() {
    let (f, token) = fixture("en").await;
    for form in [
        "",
        "score=",
        "score=11",
        "score=-1",
        "score=nine",
        "score=%00",
    ] {
        let (s, body) = call(&f.router, post(&token, form)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(body.contains("survey-pick-a-score"), "{form:?}");
    }
    assert!(answers(&f.store).await.is_empty());
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let (f, token) = fixture("en").await;
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    let (s, _) = call(&f.router, post(&forged, "score=10")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let other_purpose = TokenSigner::new(Secret::from("survey-key"), "tracking").sign(
        &SurveyClaims { i: "inv-1".into() },
        f.clock.now() + chrono::Duration::days(1),
    );
    let (s, _) = call(&f.router, post(&other_purpose, "score=10")).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a tracking token is not a survey token"
    );
    let unknown = f.tokens.sign(
        &SurveyClaims {
            i: "inv-404".into(),
        },
        f.clock.now() + chrono::Duration::days(1),
    );
    let (s, _) = call(
        &f.router,
        Request::get(format!("/s/{unknown}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for junk in ["x", "a.b", "%F0%9F%92%A9", &"A".repeat(5000)] {
        let (s, _) = call(
            &f.router,
            Request::get(format!("/s/{junk}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{junk:.20}");
    }
    f.clock.advance(chrono::Duration::days(15));
    let (s, body) = call(&f.router, post(&token, "score=10")).await;
    assert_eq!(s, StatusCode::GONE);
    assert!(body.contains("survey-closed"));
    assert!(answers(&f.store).await.is_empty());
}

#[tokio::test]
async fn arabic_page_is_right_to_left() {
    let (f, token) = fixture("ar").await;
    let (s, body) = call(
        &f.router,
        Request::get(format!("/s/{token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(body.contains("[ar:survey-nps-question]"));
}
