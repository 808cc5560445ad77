//! Zid's Basic credentials, the store binding, de-duplication, decoding and webhook
//! subscription.

use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_zid::{BasicCredentials, ZidWebhooks};
use serde_json::json;

use crate::common::zid::{State, start};
use crate::common::{MANAGER, REFRESH, STORE, api, credentials, fixture, fixture_json, source};

fn verify(src: &ZidWebhooks, headers: &RawHeaders, body: &[u8]) -> Result<String, Rejection> {
    src.verify(&WebhookRequest::new(headers, body, chrono::Utc::now()))
        .map(|v| v.dedupe_key)
}

fn decode(src: &ZidWebhooks, body: &[u8]) -> Result<Vec<PlatformEvent>, aftercare::Error> {
    let v = src
        .verify(&WebhookRequest::new(
            &src.sign_for_test(),
            body,
            chrono::Utc::now(),
        ))
        .unwrap();
    let now = chrono::Utc::now();
    src.decode(&{
        let mut entry = InboxEntry::from_verified(1, "zid", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    })
}

#[test]
fn only_the_configured_basic_credentials_are_accepted() {
    let src = source();
    let body = fixture("order_indelivery.json");
    verify(&src, &src.sign_for_test(), &body).unwrap();
    let lower = credentials(STORE)
        .header_value()
        .replacen("Basic", "basic", 1);
    verify(
        &src,
        &RawHeaders::from_pairs([("Authorization", lower.as_str())]),
        &body,
    )
    .unwrap();
    let refused = [
        credentials("3").header_value(),
        BasicCredentials::new("aftercar", Secret::from("hook-pass-251073"))
            .unwrap()
            .header_value(),
        credentials(STORE).header_value().replace("Basic", "Bearer"),
        "hook-pass-251073".to_owned(),
        "Basic".to_owned(),
    ];
    for value in refused {
        let h = RawHeaders::from_pairs([("Authorization", value.as_str())]);
        assert!(verify(&src, &h, &body).is_err(), "{value}");
    }
    assert!(matches!(
        verify(&src, &RawHeaders::default(), &body),
        Err(Rejection::MissingHeader { .. })
    ));
    assert!(matches!(
        verify(
            &src,
            &RawHeaders::from_pairs([("Authorization", "Basic ***")]),
            &body
        ),
        Err(Rejection::BadEncoding { .. })
    ));
    assert_eq!(
        verify(&src, &src.sign_for_test(), b""),
        Err(Rejection::EmptyBody)
    );
}

#[test]
fn a_source_without_credentials_cannot_be_built() {
    assert!(ZidWebhooks::builder(STORE).build().is_err());
    assert!(BasicCredentials::new("", Secret::from("p")).is_err());
    assert!(BasicCredentials::new("a:b", Secret::from("p")).is_err());
    assert!(BasicCredentials::new("a", Secret::from("")).is_err());
    let printed = format!("{:?} {:?}", credentials(STORE), source());
    assert!(!printed.contains("hook-pass"), "{printed}");
}

#[test]
fn one_order_state_is_one_key_and_a_new_status_another() {
    let src = source();
    let body = fixture("order_indelivery.json");
    let a = verify(&src, &src.sign_for_test(), &body).unwrap();
    assert_eq!(a, "order:25304285:indelivery@2026-11-03 06:10:00");
    let mut v = fixture_json("order_indelivery.json");
    v["order_status"]["code"] = json!("delivered");
    v["updated_at"] = json!("2026-11-04 08:00:00");
    let b = verify(&src, &src.sign_for_test(), &serde_json::to_vec(&v).unwrap()).unwrap();
    assert_ne!(a, b);
}

#[test]
fn an_order_in_delivery_is_a_shipped_milestone_with_its_tracking_in_arabic() {
    let events = decode(&source(), &fixture("order_indelivery.json")).unwrap();
    let [
        PlatformEvent::OrderUpdated { order },
        PlatformEvent::ShipmentUpdated { shipment },
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(order.total.as_ref().unwrap().minor_units, 21145);
    assert_eq!(order.locale.as_deref(), Some("ar"));
    assert_eq!(order.number, "8OVNEhyqcf");
    assert_eq!(shipment.status.as_str(), "in_transit");
    assert_eq!(shipment.tracking_numbers, ["35468712345"]);
    assert_eq!(shipment.carrier.as_deref(), Some("أرامكس"));
    // Another store's order is refused.
    let mut v = fixture_json("order_indelivery.json");
    v["store_id"] = json!(3);
    let e = decode(&source(), &serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(e.to_string().contains("`3`"), "{e}");
}

#[tokio::test]
async fn subscribing_twice_creates_one_webhook_with_the_credentials() {
    let (server, fake) = start(State {
        manager: MANAGER.into(),
        refresh: REFRESH.into(),
        ..State::default()
    })
    .await;
    let api = api(&server.uri()).await;
    let url = "https://hooks.example.com/webhooks/zid-7f3a9c";
    let creds = credentials(STORE);
    assert!(
        api.subscribe("order.status.update", url, &creds, "Aftercare")
            .await
            .unwrap()
    );
    assert!(
        !api.subscribe("order.status.update", url, &creds, "Aftercare")
            .await
            .unwrap()
    );
    assert!(
        api.subscribe("order.create", url, &creds, "Aftercare")
            .await
            .unwrap()
    );
    assert!(
        api.subscribe("order.create", "http://plain.example/", &creds, "A")
            .await
            .is_err()
    );
    let s = fake.state();
    assert_eq!(s.webhooks.len(), 2);
    assert_eq!(s.webhooks[0]["username"], "aftercare");
    assert_eq!(s.webhooks[0]["password"], "hook-pass-251073");
    assert_eq!(s.webhooks[0]["target_url"], url);
}

#[tokio::test]
async fn a_revoked_store_token_stops_the_client_with_a_clear_reason() {
    let (server, fake) = start(State {
        manager: "manager-other".into(),
        refresh: REFRESH.into(),
        revoked: true,
        ..State::default()
    })
    .await;
    let api = api(&server.uri()).await;
    for _ in 0..3 {
        let e = aftercare::platform::OrderSource::order(&api, &"1".into())
            .await
            .unwrap_err();
        assert!(!e.is_retryable(), "{e}");
        assert!(e.to_string().contains("revoked"), "{e}");
    }
    assert_eq!(fake.state().refreshes, 1, "no retry storm");
}
