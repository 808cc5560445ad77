#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The sdk's webhook router with the WhatsApp source over SQLite: a signed payload (Meta's
//! text-message webhook reference shape) is stored once, a bad signature is refused.

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::http::WebhookRoutes;
use aftercare::store::Inbox;
use aftercare_sqlite::SqliteStore;
use aftercare_whatsapp_cloud::webhook::{TOPIC_MESSAGES, WhatsAppCloudWebhook, decode_entry};
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const PAYLOAD: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383","type":"text","text":{"body":"STOP"}}]},"field":"messages"}]}]}"#;

fn post(sig: &str) -> Request<Body> {
    Request::post("/webhooks/whatsapp")
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", sig)
        .body(Body::from(PAYLOAD))
        .unwrap()
}

async fn json(resp: axum::response::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn router_stores_verified_meta_webhooks_once() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(WhatsAppCloudWebhook::new("app-secret"));
    let sig = source
        .sign(PAYLOAD.as_bytes())
        .get_str("X-Hub-Signature-256")
        .unwrap()
        .to_owned();
    let app = WebhookRoutes::new(store.clone(), Arc::new(SystemClock))
        .source("whatsapp", source.clone())
        .into_router();

    let (status, body) = json(app.clone().oneshot(post(&sig)).await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("accepted")));
    let id = body["id"].as_i64().unwrap();
    let (_, body) = json(app.clone().oneshot(post(&sig)).await.unwrap()).await;
    assert_eq!(body["status"].as_str(), Some("duplicate"));

    let wrong = format!("sha256={}", "0".repeat(64));
    let (status, body) = json(app.clone().oneshot(post(&wrong)).await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("mismatch")));

    let entry = store.inbox_entry(id).await.unwrap().unwrap();
    assert_eq!(entry.topic.as_deref(), Some(TOPIC_MESSAGES));
    let batch = decode_entry(&entry).unwrap();
    assert_eq!(batch.messages[0].text, "STOP");
    assert_eq!(batch.messages[0].from, "+16505551234");
}

/// Meta's GET verification request ("Verification Requests" in the Webhooks guide:
/// `hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock`) and the POSTs
/// share `/webhooks/whatsapp` when the token is given to the source.
#[tokio::test]
async fn the_webhook_route_answers_metas_handshake_and_takes_posts_on_one_path() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(WhatsAppCloudWebhook::new("app-secret").verify_token("meatyhamhock"));
    let sig = source
        .sign(PAYLOAD.as_bytes())
        .get_str("X-Hub-Signature-256")
        .unwrap()
        .to_owned();
    let app = WebhookRoutes::new(store.clone(), Arc::new(SystemClock))
        .source("whatsapp", source)
        .source("plain", Arc::new(WhatsAppCloudWebhook::new("other-secret")))
        .into_router();
    let get = |query: &str| {
        Request::get(format!("/webhooks/whatsapp?{query}"))
            .body(Body::empty())
            .unwrap()
    };

    let resp = app
        .clone()
        .oneshot(get(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
        ))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"1158201444", "the challenge is echoed as is");

    let (status, body) = json(
        app.clone()
            .oneshot(get(
                "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess",
            ))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("handshake_refused")),
        "a wrong verify token"
    );
    assert!(
        !body.to_string().contains("1158201444"),
        "a refused handshake echoes nothing: {body}"
    );
    let (status, _) = json(
        app.clone()
            .oneshot(get(
                "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=meatyhamhock",
            ))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "not a subscription");

    // A source without a verify token has no handshake: GET is not allowed there.
    let resp = app
        .clone()
        .oneshot(
            Request::get("/webhooks/plain?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    let resp = app
        .clone()
        .oneshot(Request::get("/webhooks/nope").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404, "an unknown source");

    // And the POSTs still arrive on the same path.
    let (status, body) = json(app.clone().oneshot(post(&sig)).await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("accepted")));
}

/// Meta signs with the app's secret, and one app can serve several numbers and business
/// accounts: a signed body naming a phone number id (or a WhatsApp Business Account) that is
/// not configured is refused with 403 and not stored.
#[tokio::test]
async fn a_signed_body_for_another_phone_number_or_business_account_is_refused_and_not_stored() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(
        WhatsAppCloudWebhook::new("app-secret")
            .phone_number_id("106540352242922")
            .business_account_id("102290129340398"),
    );
    let app = WebhookRoutes::new(store.clone(), Arc::new(SystemClock))
        .source("whatsapp", source.clone())
        .into_router();
    let signed = |body: &str| {
        Request::post("/webhooks/whatsapp")
            .header("content-type", "application/json")
            .header(
                "X-Hub-Signature-256",
                source
                    .sign(body.as_bytes())
                    .get_str("X-Hub-Signature-256")
                    .unwrap(),
            )
            .body(Body::from(body.to_owned()))
            .unwrap()
    };

    let other_number = PAYLOAD.replace("106540352242922", "199999999999999");
    let (status, body) = json(app.clone().oneshot(signed(&other_number)).await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("wrong_account"))
    );
    assert!(body.to_string().contains("199999999999999"), "{body}");
    let other_waba = PAYLOAD.replace("102290129340398", "188888888888888");
    let (status, body) = json(app.clone().oneshot(signed(&other_waba)).await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("wrong_account"))
    );
    let claimed = store
        .claim(chrono::Utc::now(), 10, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert!(claimed.is_empty(), "nothing stored");

    let (status, body) = json(app.clone().oneshot(signed(PAYLOAD)).await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("accepted")));
}
