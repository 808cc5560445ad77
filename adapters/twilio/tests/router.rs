#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The sdk's webhook router with the Twilio source over SQLite: a signed status callback is
//! stored in the inbox once (a redelivery is a duplicate), an unsigned or tampered one is
//! refused, and the stored entry decodes to a typed status. Callback parameters as on
//! `https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks`.

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::http::WebhookRoutes;
use aftercare::model::DeliveryStatus;
use aftercare::store::Inbox;
use aftercare_sqlite::SqliteStore;
use aftercare_twilio::webhook::{TOPIC_STATUS, TwilioEvent, TwilioWebhook, decode_entry};
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

// The public URL configured as `StatusCallback`; the router is mounted behind it.
const PUBLIC_URL: &str = "https://shop.example/webhooks/twilio";
const CALLBACK: &str = "AccountSid=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&ApiVersion=2010-04-01&ErrorCode=30003&From=%2B15017122661&MessageSid=SM5ee43f4a6fd61c7ec3d1b72bcb0fb8fd&MessageStatus=undelivered&SmsSid=SM5ee43f4a6fd61c7ec3d1b72bcb0fb8fd&SmsStatus=undelivered&To=%2B15558675310";

fn post(sig: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::post("/webhooks/twilio")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(s) = sig {
        b = b.header("X-Twilio-Signature", s);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

async fn json(resp: axum::response::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn router_stores_verified_twilio_callbacks_once() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(TwilioWebhook::new("twilio-auth-token", PUBLIC_URL));
    let sig = source.sign(CALLBACK.as_bytes());
    let app = WebhookRoutes::new(store.clone(), Arc::new(SystemClock))
        .source("twilio", source.clone())
        .into_router();

    // Twilio reads the answer as TwiML: an empty <Response/> acknowledges without replying.
    for _ in 0..2 {
        let resp = app
            .clone()
            .oneshot(post(Some(&sig), CALLBACK))
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/xml")
        );
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&bytes).ends_with("<Response/>"));
    }
    let claimed = store
        .claim(chrono::Utc::now(), 10, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "the redelivery is stored once");
    let id = claimed[0].id;

    let (status, body) = json(app.clone().oneshot(post(None, CALLBACK)).await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("missing_header"))
    );

    let tampered = CALLBACK.replace("undelivered", "delivered");
    let (status, body) = json(
        app.clone()
            .oneshot(post(Some(&sig), &tampered))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("mismatch")));

    let entry = store.inbox_entry(id).await.unwrap().unwrap();
    assert_eq!(
        entry.dedupe_key,
        "SM5ee43f4a6fd61c7ec3d1b72bcb0fb8fd:undelivered"
    );
    assert_eq!(entry.topic.as_deref(), Some(TOPIC_STATUS));
    assert_eq!(
        decode_entry(&entry).unwrap(),
        TwilioEvent::Status {
            sid: "SM5ee43f4a6fd61c7ec3d1b72bcb0fb8fd".into(),
            status: DeliveryStatus::Failed {
                code: Some("30003".into())
            },
        }
    );
}

const ACCOUNT: &str = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";

async fn stored(store: &SqliteStore) -> usize {
    let claimed = store
        .claim(chrono::Utc::now(), 100, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    claimed.len()
}

/// `AccountSid` is inside the signed parameters, but a valid signature only says who signed:
/// a request of another account (a webhook meant for another installation, a key shared
/// between accounts) is refused with 403 before anything is stored.
#[tokio::test]
async fn a_validly_signed_request_of_another_account_is_refused_and_not_stored() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(TwilioWebhook::new("twilio-auth-token", PUBLIC_URL).account_sid(ACCOUNT));
    let app = WebhookRoutes::new(store.clone(), Arc::new(SystemClock))
        .source("twilio", source.clone())
        .into_router();

    let other = CALLBACK.replace(ACCOUNT, "ACYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY");
    let sig = source.sign(other.as_bytes());
    let (status, body) = json(app.clone().oneshot(post(Some(&sig), &other)).await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("wrong_account"))
    );
    let no_account = CALLBACK.replace(&format!("AccountSid={ACCOUNT}&"), "");
    let sig = source.sign(no_account.as_bytes());
    let (status, _) = json(
        app.clone()
            .oneshot(post(Some(&sig), &no_account))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status, 403,
        "a body naming no account is not this account's"
    );
    assert_eq!(stored(&store).await, 0, "nothing stored");

    // The configured account's callback is stored.
    let sig = source.sign(CALLBACK.as_bytes());
    let resp = app.oneshot(post(Some(&sig), CALLBACK)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(stored(&store).await, 1);
}

/// A signed body that is not the kind it claims is dead-lettered with the reason, never
/// handed on as an empty event: a status callback without `MessageStatus` (only the older
/// `SmsStatus`), an incoming message without `Body` or `To`.
#[tokio::test]
async fn signed_bodies_that_are_not_what_they_claim_are_dead_lettered_with_the_reason() {
    use aftercare::flows::Chain;
    use aftercare::inbox::InboxProcessor;
    use aftercare::store::InboxStatus;

    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(TwilioWebhook::new("twilio-auth-token", PUBLIC_URL).account_sid(ACCOUNT));
    let app = WebhookRoutes::new(store.clone(), Arc::new(SystemClock))
        .source("twilio", source.clone())
        .into_router();
    let bodies = [
        (
            format!(
                "AccountSid={ACCOUNT}&ApiVersion=2010-04-01&From=%2B15017122661&MessageSid=SM1&SmsSid=SM1&SmsStatus=delivered&To=%2B15558675310"
            ),
            "status callback: it has no `MessageStatus`",
        ),
        (
            format!(
                "AccountSid={ACCOUNT}&From=%2B15558675310&MessageSid=SM2&To=%2B15017122661&NumMedia=0"
            ),
            "incoming message: it has no `Body`",
        ),
        (
            format!("AccountSid={ACCOUNT}&From=%2B15558675310&MessageSid=SM3&Body=hi"),
            "incoming message: it has no `To`",
        ),
    ];
    for (body, _) in &bodies {
        let sig = source.sign(body.as_bytes());
        let resp = app.clone().oneshot(post(Some(&sig), body)).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "signed, so stored: {body}");
    }
    let processor =
        InboxProcessor::new(store.clone(), Arc::new(Chain::new()), Arc::new(SystemClock))
            .source("twilio", source);
    let report = processor.drain().await.unwrap();
    assert_eq!((report.done, report.dead), (0, 3));
    let dead = store.dead_letters(10).await.unwrap();
    for (_, reason) in &bodies {
        assert!(
            dead.iter().any(|e| e.status == InboxStatus::Dead
                && e.last_error.as_deref().is_some_and(|r| r.contains(reason))),
            "{reason}: {:?}",
            dead.iter()
                .map(|e| e.last_error.clone())
                .collect::<Vec<_>>()
        );
    }
}
