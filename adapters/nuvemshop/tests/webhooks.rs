//! Verification and decoding of notifications without the API: the signature, the store,
//! app and event binding, the LGPD topics on their own routes, and what needs a hydrator.

use std::sync::Arc;

use aftercare::model::PlatformEvent;
use aftercare::platform::thin::Hydrator;
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    RawHeaders, Rejection, Secret, VerifiedWebhook, WebhookRequest, WebhookSource,
};
use aftercare_nuvemshop::{NuvemshopHydrator, NuvemshopWebhooks, PrivacyTopic};
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{APP_ID, SECRET, STORE, client, fixture, source};

fn hex_sig(body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

fn verify(
    src: &NuvemshopWebhooks,
    headers: &RawHeaders,
    body: &[u8],
) -> Result<VerifiedWebhook, Rejection> {
    src.verify(&WebhookRequest::new(headers, body, Utc::now()))
}

fn entry(v: VerifiedWebhook, body: &[u8]) -> InboxEntry {
    let now = Utc::now();
    {
        let mut entry = InboxEntry::from_verified(1, "nuvemshop", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

#[test]
fn the_signature_is_the_php_samples_hex_hmac_of_the_raw_body() {
    let body = fixture("order_paid.json");
    let src = source();
    // Lowercase as sent, the header name as PHP frameworks rename it... or in capitals.
    for (name, value) in [
        ("x-linkedstore-hmac-sha256", hex_sig(&body)),
        ("X-LINKEDSTORE-HMAC-SHA256", hex_sig(&body).to_uppercase()),
    ] {
        let h = RawHeaders::from_pairs([(name, value)]);
        let v = verify(&src, &h, &body).unwrap();
        assert_eq!(v.topic.as_deref(), Some("order/paid"));
        assert_eq!(v.shop.as_deref(), Some(STORE));
        assert!(v.dedupe_key.starts_with("sha256:"));
    }
    // The same JSON re-serialised with spaces is not what was signed.
    let spaced = br#"{"store_id": 123, "event": "order/paid", "id": 450789469}"#;
    let h = RawHeaders::from_pairs([("x-linkedstore-hmac-sha256", hex_sig(&body))]);
    assert!(matches!(verify(&src, &h, spaced), Err(Rejection::Mismatch)));
    // A base64 signature (one third-party snippet's reading) is not accepted.
    let h = RawHeaders::from_pairs([("x-linkedstore-hmac-sha256", "3q2+7w==")]);
    assert!(verify(&src, &h, &body).is_err());
    // No signature: refused.
    assert!(verify(&src, &RawHeaders::new(), &body).is_err());
}

#[test]
fn the_hook_headers_are_bound_to_the_signed_body() {
    let src = source();
    let body = fixture("order_created.json");
    // Replayed to the webhook of another event.
    let h = src.sign_delivery_for_test(STORE, "order/cancelled", &body);
    assert!(matches!(verify(&src, &h, &body), Err(Rejection::Mismatch)));
    // Headers of another store.
    let h = src.sign_delivery_for_test("456", "order/created", &body);
    assert!(matches!(
        verify(&src, &h, &body),
        Err(Rejection::WrongAccount { .. })
    ));
    // A body of another store, served by the same source: headers and body disagree.
    let two = source().add_store("456");
    let other = br#"{"store_id":456,"event":"order/created","id":1}"#;
    let h = two.sign_delivery_for_test(STORE, "order/created", other);
    assert!(matches!(
        verify(&two, &h, other),
        Err(Rejection::WrongAccount { .. })
    ));
}

#[test]
fn the_lgpd_topics_are_received_on_their_own_routes() {
    let base = source();
    let cases = [
        (
            PrivacyTopic::StoreRedact,
            "store_redact.json",
            "shop_redact_requested",
        ),
        (
            PrivacyTopic::CustomersRedact,
            "customers_redact.json",
            "customer_redact_requested",
        ),
        (
            PrivacyTopic::CustomersDataRequest,
            "customers_data_request.json",
            "customer_data_requested",
        ),
    ];
    for (topic, file, kind) in cases {
        let src = base.clone().privacy(topic);
        let body = fixture(file);
        let h = src.sign_for_test(&body);
        let v = verify(&src, &h, &body).unwrap();
        assert_eq!(v.topic.as_deref(), Some(topic.as_str()));
        let events = src.decode(&entry(v, &body)).unwrap();
        assert_eq!(
            events.iter().map(PlatformEvent::kind).collect::<Vec<_>>(),
            vec![kind]
        );
        match &events[0] {
            PlatformEvent::CustomerRedactRequested {
                customer_id,
                email,
                orders,
                ..
            } => {
                assert_eq!(customer_id.as_str(), "101");
                assert_eq!(email.as_deref(), Some("john.doe@example.com"));
                assert_eq!(orders[0].as_str(), "450789469");
            }
            PlatformEvent::ShopRedactRequested { shop } => assert_eq!(shop.as_str(), STORE),
            PlatformEvent::CustomerDataRequested { customer_id, .. } => {
                assert_eq!(customer_id.as_str(), "101")
            }
            other => panic!("{other:?}"),
        }
        // A customer body on the store/redact route (or the reverse) is refused.
        if topic == PrivacyTopic::StoreRedact {
            let wrong = fixture("customers_redact.json");
            let h = src.sign_for_test(&wrong);
            let v = verify(&src, &h, &wrong).unwrap();
            assert!(src.decode(&entry(v, &wrong)).is_err());
        }
    }
    // Another store's redaction is refused at the door.
    let src = base.privacy(PrivacyTopic::StoreRedact);
    let other = br#"{"store_id":456}"#;
    let h = src.sign_for_test(other);
    assert!(matches!(
        verify(&src, &h, other),
        Err(Rejection::WrongAccount { .. })
    ));
}

#[test]
fn order_notifications_need_the_hydrator_and_the_app_must_be_ours() {
    let src = source();
    let body = fixture("order_created.json");
    let v = verify(&src, &src.sign_for_test(&body), &body).unwrap();
    let e = src.decode(&entry(v, &body)).unwrap_err();
    assert!(e.to_string().contains("NuvemshopHydrator"), "{e}");
    let body = fixture("app_uninstalled.json");
    let v = verify(&src, &src.sign_for_test(&body), &body).unwrap();
    assert!(matches!(
        src.decode(&entry(v, &body)).unwrap().as_slice(),
        [PlatformEvent::AppUninstalled { .. }]
    ));
    let other_app = NuvemshopWebhooks::new(Secret::from(SECRET), "9999", STORE);
    let v = verify(&other_app, &other_app.sign_for_test(&body), &body).unwrap();
    assert!(
        other_app.decode(&entry(v, &body)).is_err(),
        "app/uninstalled of app {APP_ID} is not ours"
    );
}

#[tokio::test]
async fn app_resumed_ends_the_clients_pause() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(402))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let _ = aftercare::platform::OrderSource::order(&c, &"1".into()).await;
    assert!(c.is_paused());
    let src = Arc::new(source());
    let h = NuvemshopHydrator::new(src.clone(), c.clone());
    let body =
        format!(r#"{{"store_id":{STORE},"event":"app/resumed","id":{APP_ID}}}"#).into_bytes();
    let v = verify(&src, &src.sign_for_test(&body), &body).unwrap();
    let events = h.hydrate(&entry(v, &body)).await.unwrap();
    assert!(matches!(
        events.as_slice(),
        [PlatformEvent::Unrecognized { .. }]
    ));
    assert!(!c.is_paused());
}
