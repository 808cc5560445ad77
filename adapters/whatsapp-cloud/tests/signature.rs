#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `X-Hub-Signature-256` and the GET handshake.
//!
//! The official vector is WhatsApp/WhatsApp-Nodejs-SDK `src/__tests__/utils.test.ts`
//! ("signature match": body `test`, app secret `TEST_APP_SECRET` from `jest.config.ts`).
//! The handshake follows Meta's "Create a webhook endpoint" page (`hub.mode`,
//! `hub.verify_token`, `hub.challenge`).

use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_whatsapp_cloud::webhook::{
    HandshakeError, WhatsAppCloudWebhook, verify_subscription, verify_subscription_query,
};

const SDK_VECTOR: &str = "0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221";

fn req<'a>(h: &'a RawHeaders, body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest::new(h, body, chrono::Utc::now())
}

#[test]
fn official_sdk_vector() {
    let src = WhatsAppCloudWebhook::new("TEST_APP_SECRET");
    assert_eq!(
        src.sign(b"test").get_str("X-Hub-Signature-256"),
        Some(format!("sha256={SDK_VECTOR}").as_str())
    );
    let h = RawHeaders::from_pairs([("X-Hub-Signature-256", format!("sha256={SDK_VECTOR}"))]);
    let v = src.verify(&req(&h, b"test")).unwrap();
    // Not a WhatsApp payload: stored under its body hash, decoded later as a failure.
    assert_eq!(v.dedupe_key, aftercare::webhook::body_hash_key(b"test"));
    // Upper-case hex is accepted too.
    let h = RawHeaders::from_pairs([(
        "x-hub-signature-256",
        format!("sha256={}", SDK_VECTOR.to_uppercase()),
    )]);
    assert!(src.verify(&req(&h, b"test")).is_ok());
}

#[test]
fn bad_signature_refused() {
    let src = WhatsAppCloudWebhook::new("TEST_APP_SECRET");
    let h = RawHeaders::from_pairs([("X-Hub-Signature-256", format!("sha256={SDK_VECTOR}"))]);
    assert_eq!(
        src.verify(&req(&h, b"test ")),
        Err(Rejection::Mismatch),
        "tampered body"
    );
    let other = WhatsAppCloudWebhook::new("OTHER_SECRET");
    assert_eq!(
        other.verify(&req(&h, b"test")),
        Err(Rejection::Mismatch),
        "other secret"
    );
}

#[test]
fn missing_signature_refused() {
    let src = WhatsAppCloudWebhook::new("TEST_APP_SECRET");
    let h = RawHeaders::from_pairs([("X-Hub-Signature", "sha1=0000")]);
    assert!(matches!(
        src.verify(&req(&h, b"test")),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[test]
fn wrong_prefix_refused() {
    let src = WhatsAppCloudWebhook::new("TEST_APP_SECRET");
    for value in [
        SDK_VECTOR.to_owned(),
        format!("sha1={SDK_VECTOR}"),
        format!("sha256:{SDK_VECTOR}"),
    ] {
        let h = RawHeaders::from_pairs([("X-Hub-Signature-256", value.clone())]);
        assert!(
            matches!(
                src.verify(&req(&h, b"test")),
                Err(Rejection::BadEncoding { .. })
            ),
            "{value}"
        );
    }
}

#[test]
fn rotation_accepts_old_secret() {
    let src =
        WhatsAppCloudWebhook::with_secrets([Secret::from("NEW"), Secret::from("TEST_APP_SECRET")]);
    let h = RawHeaders::from_pairs([("X-Hub-Signature-256", format!("sha256={SDK_VECTOR}"))]);
    assert!(src.verify(&req(&h, b"test")).is_ok());
}

#[test]
fn handshake() {
    let token = Secret::from("meatyhamhock");
    let ok = [
        ("hub.mode", "subscribe"),
        ("hub.challenge", "1158201444"),
        ("hub.verify_token", "meatyhamhock"),
    ];
    assert_eq!(verify_subscription(ok, &token).unwrap(), "1158201444");
    assert_eq!(
        verify_subscription_query(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
            &token
        )
        .unwrap(),
        "1158201444"
    );
    assert_eq!(
        verify_subscription(
            [
                ("hub.mode", "subscribe"),
                ("hub.challenge", "1"),
                ("hub.verify_token", "meatyhamhocK")
            ],
            &token
        ),
        Err(HandshakeError::WrongToken)
    );
    assert_eq!(
        verify_subscription(
            [
                ("hub.mode", "unsubscribe"),
                ("hub.challenge", "1"),
                ("hub.verify_token", "meatyhamhock")
            ],
            &token
        ),
        Err(HandshakeError::NotSubscribe)
    );
    assert_eq!(
        verify_subscription([("hub.mode", "subscribe"), ("hub.challenge", "1")], &token),
        Err(HandshakeError::WrongToken)
    );
    assert_eq!(
        verify_subscription(
            [
                ("hub.mode", "subscribe"),
                ("hub.verify_token", "meatyhamhock")
            ],
            &token
        ),
        Err(HandshakeError::NoChallenge)
    );
    // An empty configured token never matches.
    assert_eq!(
        verify_subscription(
            [
                ("hub.mode", "subscribe"),
                ("hub.challenge", "1"),
                ("hub.verify_token", "")
            ],
            &Secret::from("")
        ),
        Err(HandshakeError::WrongToken)
    );
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn handshake_router() {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let app = aftercare_whatsapp_cloud::verification_router(
        "/webhooks/whatsapp",
        Secret::from("meatyhamhock"),
    );
    let ok = axum::http::Request::get("/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(ok).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .as_ref(),
        b"1158201444"
    );
    let bad = axum::http::Request::get(
        "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope",
    )
    .body(axum::body::Body::empty())
    .unwrap();
    assert_eq!(app.oneshot(bad).await.unwrap().status(), 403);
}
