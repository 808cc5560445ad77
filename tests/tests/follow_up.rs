//! The survey page's follow-up is durable: with [`AnswerQueue`], a web answer's follow-up
//! waits in the inbox (real SQLite) and is retried there when the shop's API fails, runs
//! once however often the answer is sent, and waits for an answer that is not recorded yet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aftercare::Error;
use aftercare::clock::{Clock, ManualClock};
use aftercare::flows::feedback::{
    ANSWER_SOURCE, AnswerQueue, AnswerSource, FollowUp, FollowUpSettings,
};
use aftercare::http::survey::{AnswerHook, SurveyClaims, SurveyPage};
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::{
    ChannelKind, CustomerId, Invitation, OrderId, ShopId, SurveyKind, SurveyResponse,
};
use aftercare::platform::OrderAnnotator;
use aftercare::store::{Decision, Inbox, InboxStatus, Ledger, SurveyStore};
use aftercare::token::TokenSigner;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;

/// A shop whose tagging API fails `failures` times (a retryable 503), then works.
#[derive(Default)]
struct FlakyShop {
    failures: Mutex<u32>,
    tags: Mutex<Vec<String>>,
}

impl FlakyShop {
    fn failing(times: u32) -> Self {
        Self {
            failures: Mutex::new(times),
            tags: Mutex::default(),
        }
    }

    fn call(&self, what: String) -> Result<(), Error> {
        let mut left = self.failures.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(Error::Platform {
                operation: what,
                status: Some(503),
                message: "Service Unavailable".into(),
                retryable: true,
            });
        }
        self.tags.lock().unwrap().push(what);
        Ok(())
    }

    fn tags(&self) -> Vec<String> {
        self.tags.lock().unwrap().clone()
    }
}

#[async_trait]
impl OrderAnnotator for FlakyShop {
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        self.call(format!("order {} +{}", order.as_str(), tags.join(",")))
    }
    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        self.call(format!(
            "customer {} +{}",
            customer.as_str(),
            tags.join(",")
        ))
    }
    async fn append_order_note(&self, _order: &OrderId, _line: &str) -> Result<(), Error> {
        Ok(())
    }
    async fn set_order_metafield(
        &self,
        _order: &OrderId,
        _namespace: &str,
        _key: &str,
        _value: &str,
    ) -> Result<(), Error> {
        Ok(())
    }
}

struct Fixture {
    store: SqliteStore,
    clock: Arc<ManualClock>,
    shop: Arc<FlakyShop>,
    processor: InboxProcessor,
    router: axum::Router,
    token: String,
    invitation: Invitation,
}

async fn fixture(failures: u32) -> Fixture {
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new("2026-06-01T09:00:00Z".parse().unwrap()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let tokens = TokenSigner::new(Secret::from("survey-key"), "survey");
    let invitation = {
        let mut invitation = Invitation::new(
            "inv-1",
            SurveyKind::Nps,
            OrderId::new("1001"),
            ChannelKind::Email,
            "en",
            clock.now(),
            clock.now() + chrono::Duration::days(14),
        );
        invitation.shop = Some(ShopId::new("demo.myshopify.com"));
        invitation.customer_id = Some(CustomerId::new("c-1"));
        invitation
    };
    store.save_invitation(&invitation).await.unwrap();
    let token = tokens.sign(&SurveyClaims { i: "inv-1".into() }, invitation.closes_at);
    let shop = Arc::new(FlakyShop::failing(failures));
    let mut settings = FollowUpSettings::default();
    settings.detractor_tag = Some("unhappy".into());
    let text = Arc::new(Catalogs::new("Demo shop"));
    let follow_up = Arc::new(FollowUp::new(
        Arc::new(store.clone()),
        shop.clone(),
        text.clone(),
        dyn_clock.clone(),
        settings,
    ));
    let processor = InboxProcessor::new(Arc::new(store.clone()), follow_up, dyn_clock.clone())
        .source(ANSWER_SOURCE, Arc::new(AnswerSource));
    let router = SurveyPage::new(Arc::new(store.clone()), tokens, text, dyn_clock.clone())
        .on_answer(Arc::new(AnswerQueue::new(
            Arc::new(store.clone()),
            dyn_clock,
        )))
        .into_router();
    Fixture {
        store,
        clock,
        shop,
        processor,
        router,
        token,
        invitation,
    }
}

async fn answer(f: &Fixture, form: &'static str) -> StatusCode {
    f.router
        .clone()
        .oneshot(
            Request::post(format!("/s/{}", f.token))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap()
        .status()
}

/// Past any backoff the inbox's default retry policy can choose (at most an hour).
fn later(f: &Fixture) {
    f.clock.advance(chrono::Duration::hours(2));
}

const TAGS: [&str; 2] = ["order 1001 +unhappy", "customer c-1 +unhappy"];

#[tokio::test]
async fn a_failing_shop_delays_the_follow_up_and_it_still_runs_once() {
    let f = fixture(2).await;
    assert_eq!(answer(&f, "score=2&comment=late").await, StatusCode::OK);
    assert_eq!(
        f.store.response("inv-1").await.unwrap().unwrap().score,
        2,
        "the answer is recorded at once"
    );
    assert!(f.shop.tags().is_empty(), "nothing runs inside the request");

    // Two 503s from the shop: the entry is kept for a retry each time, with the reason.
    for attempt in 1..=2 {
        let r = f.processor.run_once().await.unwrap();
        assert_eq!((r.done, r.retried, r.dead), (0, 1, 0), "attempt {attempt}");
        later(&f);
    }
    let pending = f.store.dead_letters(10).await.unwrap();
    assert!(
        pending.is_empty(),
        "a transient failure is not a dead letter"
    );
    let r = f.processor.run_once().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (1, 0, 0));
    assert_eq!(f.shop.tags(), TAGS, "tagged once the shop answers");
    let rows = f.store.ledger_for_key("followup:inv-1").await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.decision == Decision::Sent && r.reason.starts_with("tagged")),
        "the tagging is ledgered: {rows:?}"
    );

    // The same answer sent again is not queued again; nothing runs twice.
    assert_eq!(answer(&f, "score=2").await, StatusCode::OK);
    later(&f);
    let r = f.processor.run_once().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (0, 0, 0));
    assert_eq!(f.shop.tags(), TAGS);
}

#[tokio::test]
async fn a_queued_follow_up_waits_for_its_answer_to_be_recorded() {
    let f = fixture(0).await;
    // The page queues before it records: the processor may see the entry first.
    AnswerQueue::new(Arc::new(f.store.clone()), f.clock.clone())
        .queue(&f.invitation)
        .await
        .unwrap();
    let r = f.processor.run_once().await.unwrap();
    assert_eq!(
        (r.done, r.retried),
        (0, 1),
        "no answer yet: retried, not dropped"
    );
    let response = {
        let mut response = SurveyResponse::new(
            "inv-1",
            SurveyKind::Nps,
            OrderId::new("1001"),
            1,
            "web",
            f.clock.now(),
        );
        response.customer_id = Some(CustomerId::new("c-1"));
        response
    };
    assert!(f.store.record_response(&response).await.unwrap());
    later(&f);
    let r = f.processor.run_once().await.unwrap();
    assert_eq!((r.done, r.retried), (1, 0));
    assert_eq!(f.shop.tags(), TAGS);
}

#[tokio::test]
async fn a_promoter_is_followed_up_without_touching_the_shop() {
    let f = fixture(5).await;
    assert_eq!(answer(&f, "score=10").await, StatusCode::OK);
    let r = f.processor.run_once().await.unwrap();
    assert_eq!(
        (r.done, r.retried),
        (1, 0),
        "no tagging for a promoter, so no shop failure"
    );
    assert!(f.shop.tags().is_empty());
}

/// A hook that cannot queue the follow-up.
struct BrokenQueue;
#[async_trait]
impl AnswerHook for BrokenQueue {
    async fn before_record(
        &self,
        _response: &SurveyResponse,
        _invitation: &Invitation,
    ) -> Result<(), Error> {
        Err(Error::storage("insert into the inbox", "disk I/O error"))
    }
    async fn answered(&self, _response: &SurveyResponse) {
        panic!("nothing was recorded, so nothing was answered");
    }
}

#[tokio::test]
async fn an_answer_whose_follow_up_cannot_be_queued_is_not_recorded() {
    let f = fixture(0).await;
    let tokens = TokenSigner::new(Secret::from("survey-key"), "survey");
    let router = SurveyPage::new(
        Arc::new(f.store.clone()),
        tokens,
        Arc::new(Catalogs::new("Demo shop")),
        f.clock.clone(),
    )
    .on_answer(Arc::new(BrokenQueue))
    .into_router();
    let status = router
        .oneshot(
            Request::post(format!("/s/{}", f.token))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("score=3"))
                .unwrap(),
        )
        .await
        .unwrap()
        .status();
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the customer is asked to try again"
    );
    assert!(
        f.store.response("inv-1").await.unwrap().is_none(),
        "so the answer is not recorded without its follow-up"
    );
}

#[tokio::test]
async fn the_answer_source_takes_no_webhooks_and_its_entries_hold_no_personal_data() {
    let f = fixture(0).await;
    let headers = RawHeaders::default();
    let req = WebhookRequest::new(&headers, br#"{"invitation_id":"inv-1"}"#, f.clock.now());
    assert!(matches!(
        AnswerSource.verify(&req),
        Err(Rejection::Mismatch)
    ));

    assert_eq!(
        answer(&f, "score=0&comment=my address is 1 Main St").await,
        StatusCode::OK
    );
    let entry = f
        .store
        .claim(f.clock.now(), 10, std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(entry.source, ANSWER_SOURCE);
    assert_eq!(entry.dedupe_key, "answer:inv-1");
    assert_eq!(entry.shop.as_deref(), Some("demo.myshopify.com"));
    assert_eq!(entry.status, InboxStatus::Pending);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&entry.body).unwrap(),
        serde_json::json!({ "invitation_id": "inv-1" }),
        "the answer and comment stay in the survey store only"
    );
}
