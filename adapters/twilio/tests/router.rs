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
