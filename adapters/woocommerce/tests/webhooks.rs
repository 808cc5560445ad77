//! Verification, the ping, binding, de-duplication and decoding of WooCommerce webhooks.

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::http::WebhookRoutes;
use aftercare::model::{ChannelKind, ConsentState, PlatformEvent, Purpose, ShipmentStatus};
use aftercare::store::{Inbox, InboxEntry};
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_sqlite::SqliteStore;
use aftercare_woocommerce::{
    DELIVERY_ID_HEADER, Mapping, SIGNATURE_HEADER, SOURCE_HEADER, Site, TOPIC_HEADER, WooWebhooks,
    decode_topic,
};
use serde_json::json;

use crate::common::{OTHER_SITE, SITE, fixture, fixture_json, source};

fn verify(
    src: &WooWebhooks,
    headers: &RawHeaders,
    body: &[u8],
) -> Result<aftercare::webhook::VerifiedWebhook, Rejection> {
    src.verify(&WebhookRequest::new(headers, body, chrono::Utc::now()))
}

fn entry(v: aftercare::webhook::VerifiedWebhook, body: &[u8]) -> InboxEntry {
    let now = chrono::Utc::now();
    {
        let mut entry = InboxEntry::from_verified(1, "woocommerce", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

fn decode(topic: &str, body: &[u8]) -> Result<Vec<PlatformEvent>, aftercare::Error> {
    decode_topic(
        topic,
        body,
        &Site::parse(SITE).unwrap(),
        &Mapping::default(),
    )
}

/// Signs as WooCommerce does: base64 HMAC-SHA256 of the body with `key`.
fn woo_signature(key: &[u8], body: &[u8]) -> String {
    let v = aftercare::webhook::Verifier::new(
        aftercare::webhook::Scheme::hmac_sha256_base64(SIGNATURE_HEADER),
        Secret::from_bytes(key.to_vec()),
    );
    v.sign(body, chrono::Utc::now())
        .get_str(SIGNATURE_HEADER)
        .unwrap()
        .to_owned()
}

fn headers(signature: &str, topic: &str, source: &str) -> RawHeaders {
    RawHeaders::from_pairs([
        (SIGNATURE_HEADER, signature),
        (TOPIC_HEADER, topic),
        (SOURCE_HEADER, source),
    ])
}

fn without(h: &RawHeaders, name: &str) -> RawHeaders {
    RawHeaders::from_pairs(
        h.iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
            .map(|(n, v)| (n.to_owned(), v.to_vec())),
    )
}

#[test]
fn the_official_vector_needs_an_explicit_empty_secret() {
    // WooCommerce's test_generate_signature: key "" (a new webhook), message "secret".
    let h = headers(
        "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs=",
        "order.updated",
        SITE,
    );
    let v2 = WooWebhooks::builder(SITE)
        .secret(Secret::from(""))
        .allow_empty_secret()
        .build()
        .unwrap();
    assert!(verify(&v2, &h, b"secret").is_ok());
    assert_eq!(
        verify(&v2, &h, b"secret!").unwrap_err(),
        Rejection::Mismatch
    );
    // Safe by default: an empty secret is refused unless asked for.
    assert!(WooWebhooks::new(SITE, Secret::from("")).is_err());
    assert!(
        WooWebhooks::builder(SITE).build().is_err(),
        "no secret at all"
    );
    // The signature is standard base64 HMAC-SHA256, computed independently.
    assert_eq!(
        woo_signature(b"", b"secret"),
        "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs="
    );
}

#[test]
fn a_secret_stored_with_html_entities_verifies_as_woocommerce_signs() {
    // WordPress keeps `k&y'"<` as `k&amp;y&#039;&quot;&lt;`; WooCommerce signs with
    // wp_specialchars_decode(stored, ENT_QUOTES) (woocommerce#21693, #22500).
    let stored = "k&amp;y&#039;&quot;&lt;";
    let body = fixture("order_created.json");
    let src = WooWebhooks::new(SITE, Secret::from(stored)).unwrap();
    let sig = woo_signature(b"k&y'\"<", &body);
    assert!(verify(&src, &headers(&sig, "order.created", SITE), &body).is_ok());
    // A secret typed with a literal `&amp;` still verifies as given.
    let literal = woo_signature(stored.as_bytes(), &body);
    assert!(verify(&src, &headers(&literal, "order.created", SITE), &body).is_ok());
    // Something else does not.
    let other = woo_signature(b"k&y", &body);
    assert_eq!(
        verify(&src, &headers(&other, "order.created", SITE), &body).unwrap_err(),
        Rejection::Mismatch
    );
}

#[test]
fn several_webhooks_and_rotations_each_verify_with_their_secret() {
    let body = fixture("order_created.json");
    let src = WooWebhooks::builder(SITE)
        .secrets([Secret::from("order-hook"), Secret::from("customer-hook")])
        .secret(Secret::from("old-order-hook"))
        .build()
        .unwrap();
    for key in ["order-hook", "customer-hook", "old-order-hook"] {
        let sig = woo_signature(key.as_bytes(), &body);
        assert!(
            verify(&src, &headers(&sig, "order.created", SITE), &body).is_ok(),
            "{key}"
        );
    }
    let sig = woo_signature(b"retired", &body);
    assert_eq!(
        verify(&src, &headers(&sig, "order.created", SITE), &body).unwrap_err(),
        Rejection::Mismatch
    );
    // The REST API's consumer secret is not the webhook's (woocommerce#16106).
    let sig = woo_signature(crate::common::CONSUMER_SECRET.as_bytes(), &body);
    assert!(verify(&src, &headers(&sig, "order.created", SITE), &body).is_err());
}

#[test]
fn the_site_is_bound_and_compared_as_a_url() {
    let src = source();
    let body = fixture("order_created.json");
    for same in [
        "https://example.com/",
        "https://EXAMPLE.com",
        "https://example.com:443/",
    ] {
        let h = src.sign_as("order.created", same, "7", &body);
        assert!(verify(&src, &h, &body).is_ok(), "{same}");
    }
    for other in [
        OTHER_SITE,
        "http://example.com/",
        "https://example.com/shop/",
        "https://example.com.evil.test/",
    ] {
        let h = src.sign_as("order.created", other, "7", &body);
        assert_eq!(
            verify(&src, &h, &body).unwrap_err(),
            Rejection::WrongAccount {
                what: "site",
                claimed: other.to_owned()
            },
            "{other}"
        );
    }
    let h = without(&src.sign_for_test("order.created", &body), SOURCE_HEADER);
    assert!(matches!(
        verify(&src, &h, &body),
        Err(Rejection::MissingHeader { header }) if header == SOURCE_HEADER
    ));
    // An unsigned request naming our site is refused for its signature, not its site.
    let h = RawHeaders::from_pairs([(TOPIC_HEADER, "order.created"), (SOURCE_HEADER, SITE)]);
    assert!(matches!(
        verify(&src, &h, &body),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[test]
fn the_dedupe_key_is_the_resource_and_its_modification_time() {
    let src = source();
    let body = fixture("order_created.json");
    let a = verify(&src, &src.sign_as("order.created", SITE, "7", &body), &body).unwrap();
    let b = verify(&src, &src.sign_as("order.created", SITE, "8", &body), &body).unwrap();
    assert_eq!(a.dedupe_key, "order.created:727@2017-03-22T19:28:08");
    assert_eq!(
        a.dedupe_key, b.dedupe_key,
        "the same state from two webhooks"
    );
    assert_eq!(
        a.occurred_at.unwrap().to_rfc3339(),
        "2017-03-22T19:28:08+00:00"
    );
    let updated = verify(&src, &src.sign_for_test("order.updated", &body), &body).unwrap();
    assert_ne!(
        updated.dedupe_key, a.dedupe_key,
        "created and updated are both kept"
    );
    let mut newer = fixture_json("order_created.json");
    newer["date_modified_gmt"] = json!("2017-03-22T19:28:09");
    let newer = serde_json::to_vec(&newer).unwrap();
    let n = verify(&src, &src.sign_for_test("order.created", &newer), &newer).unwrap();
    assert_ne!(n.dedupe_key, a.dedupe_key, "a new state is a new key");
    // Deleted bodies are only an id: keyed by webhook, delivery and body.
    let del = fixture("order_deleted.json");
    let mut h1 = without(
        &src.sign_as("order.deleted", SITE, "7", &del),
        DELIVERY_ID_HEADER,
    );
    h1.insert(DELIVERY_ID_HEADER, "aaaa");
    let mut h2 = without(
        &src.sign_as("order.deleted", SITE, "7", &del),
        DELIVERY_ID_HEADER,
    );
    h2.insert(DELIVERY_ID_HEADER, "bbbb");
    let k1 = verify(&src, &h1, &del).unwrap().dedupe_key;
    assert!(k1.starts_with("order.deleted:7:aaaa:sha256:"), "{k1}");
    assert_ne!(k1, verify(&src, &h2, &del).unwrap().dedupe_key);
}

async fn serve(src: WooWebhooks) -> (SqliteStore, String) {
    let store = SqliteStore::open_temporary().await.unwrap();
    let app = WebhookRoutes::new(Arc::new(store.clone()), Arc::new(SystemClock))
        .source("woocommerce", Arc::new(src))
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/woocommerce",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (store, url)
}

async fn post(url: &str, headers: &RawHeaders, body: Vec<u8>) -> u16 {
    let mut req = reqwest::Client::new().post(url).body(body);
    for (n, v) in headers.iter() {
        req = req.header(n, v);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn pending(store: &SqliteStore) -> Vec<InboxEntry> {
    store
        .claim(
            chrono::Utc::now() + chrono::Duration::hours(1),
            100,
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn the_ping_is_answered_200_and_not_stored() {
    let (store, url) = serve(source()).await;
    // As `WC_Webhook::deliver_ping` sends it: a form body, no WooCommerce headers.
    let ping = RawHeaders::from_pairs([
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("User-Agent", "WooCommerce/9.8.0 Hookshot (WordPress/6.8)"),
    ]);
    assert_eq!(post(&url, &ping, b"webhook_id=15".to_vec()).await, 200);
    assert!(pending(&store).await.is_empty(), "the ping was stored");
    // Anything else unsigned is refused, and a signed-looking ping is verified (and fails).
    assert_eq!(post(&url, &ping, b"webhook_id=15&x=1".to_vec()).await, 400);
    let forged =
        RawHeaders::from_pairs([(SIGNATURE_HEADER, "AAAA"), (TOPIC_HEADER, "order.created")]);
    assert_eq!(post(&url, &forged, b"webhook_id=15".to_vec()).await, 401);
    assert!(pending(&store).await.is_empty());
}

#[tokio::test]
async fn one_state_is_stored_once_however_often_it_is_delivered() {
    let src = source();
    let (store, url) = serve(source()).await;
    let body = fixture("order_updated_tracking.json");
    for webhook_id in ["7", "8", "7"] {
        let h = src.sign_as("order.updated", SITE, webhook_id, &body);
        assert_eq!(post(&url, &h, body.clone()).await, 200);
    }
    let other_site = src.sign_as("order.updated", OTHER_SITE, "7", &body);
    assert_eq!(post(&url, &other_site, body.clone()).await, 403);
    let stored = pending(&store).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        stored[0].dedupe_key,
        "order.updated:723@2017-03-21T19:54:51"
    );
    assert_eq!(stored[0].shop.as_deref(), Some(SITE));
    let events = src.decode(&stored[0]).unwrap();
    assert_eq!(events.len(), 3);
}

#[test]
fn an_order_is_decoded_with_its_money_ids_contact_and_language() {
    let events = decode("order.created", &fixture("order_created.json")).unwrap();
    let kinds: Vec<_> = events.iter().map(PlatformEvent::kind).collect();
    assert_eq!(
        kinds,
        ["order_created", "order_paid"],
        "processing and paid, no tracking"
    );
    let PlatformEvent::OrderCreated { order } = &events[0] else {
        panic!()
    };
    assert_eq!(order.id.as_str(), "727");
    assert_eq!(order.number, "727");
    assert_eq!(order.shop.as_ref().unwrap().as_str(), SITE);
    assert_eq!(order.total.as_ref().unwrap().minor_units, 2935);
    assert_eq!(order.total.as_ref().unwrap().currency, "USD");
    assert_eq!(order.customer_id, None, "customer_id 0 is a guest");
    assert_eq!(order.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(order.phone.as_deref(), Some("(555) 555-5555"));
    assert_eq!(order.line_items.len(), 2);
    let l = &order.line_items[1];
    assert_eq!(
        (
            l.product_id.as_ref().unwrap().as_str(),
            l.variant_id.as_ref().unwrap().as_str()
        ),
        ("22", "23")
    );
    assert_eq!(l.sku.as_deref(), Some("Bar3"));
    assert_eq!(l.unit_price.as_ref().unwrap().minor_units, 1200);
    assert_eq!(
        order.line_items[0].variant_id, None,
        "variation_id 0 is none"
    );
    let a = order.shipping_address.as_ref().unwrap();
    assert_eq!(a.name.as_deref(), Some("John Doe"));
    assert_eq!(a.country_code.as_deref(), Some("US"));
    assert_eq!(
        order.updated_at.unwrap().to_rfc3339(),
        "2017-03-22T19:28:08+00:00"
    );
    assert!(!order.cancelled);
}

/// The product picture of each line: `image.src` as the REST API's order controller writes
/// it (woocommerce/woocommerce `class-wc-rest-orders-v2-controller.php`,
/// `get_order_item_data`: `'image' => ['id' => $image_id, 'src' => $image_id ?
/// wp_get_attachment_image_url($image_id, 'full') : '']`; webhooks carry the same payload).
#[test]
fn each_line_keeps_its_product_picture_and_a_missing_one_is_none() {
    let mut o = fixture_json("order_created.json");
    o["line_items"][0]["image"] = serde_json::json!({
        "id": 56, "src": "https://example.com/wp-content/uploads/2017/03/T_2_front.jpg"
    });
    o["line_items"][1]["image"] = serde_json::json!({"id": 0, "src": ""});
    let events = decode("order.created", &serde_json::to_vec(&o).unwrap()).unwrap();
    let PlatformEvent::OrderCreated { order } = &events[0] else {
        panic!()
    };
    assert_eq!(
        order.line_items[0].image.as_ref().map(|i| i.as_str()),
        Some("https://example.com/wp-content/uploads/2017/03/T_2_front.jpg")
    );
    assert_eq!(order.line_items[1].image, None, "no image: src ''");
    // `false` (an attachment without a file) and a value that is no URL: none, and the
    // order still decodes.
    for bad in [
        serde_json::json!({"id": 56, "src": false}),
        serde_json::json!({"id": 56, "src": "javascript:alert(1)"}),
        serde_json::json!(null),
    ] {
        o["line_items"][0]["image"] = bad.clone();
        let events = decode("order.created", &serde_json::to_vec(&o).unwrap()).unwrap();
        let PlatformEvent::OrderCreated { order } = &events[0] else {
            panic!()
        };
        assert_eq!(order.line_items[0].image, None, "{bad}");
    }
}

#[test]
fn a_completed_order_with_tracking_is_paid_and_shipped() {
    let events = decode("order.updated", &fixture("order_updated_tracking.json")).unwrap();
    let kinds: Vec<_> = events.iter().map(PlatformEvent::kind).collect();
    assert_eq!(kinds, ["order_updated", "order_paid", "shipment_updated"]);
    let PlatformEvent::OrderUpdated { order } = &events[0] else {
        panic!()
    };
    assert_eq!(
        order.locale.as_deref(),
        Some("pt-BR"),
        "WPML's wpml_language"
    );
    assert_eq!(order.customer_id.as_ref().unwrap().as_str(), "26");
    assert_eq!(order.total.as_ref().unwrap().minor_units, 3900);
    let PlatformEvent::ShipmentUpdated { shipment } = &events[2] else {
        panic!()
    };
    assert_eq!(shipment.id.as_str(), "e5f4a2bb1c8d8f8d1f5b7f4c3c2b1a09");
    assert_eq!(shipment.order_id.as_str(), "723");
    assert_eq!(shipment.status, ShipmentStatus::InTransit);
    assert_eq!(shipment.carrier.as_deref(), Some("Correios"));
    assert_eq!(shipment.tracking_numbers, ["AA123456789BR"]);
    assert_eq!(
        shipment.tracking_urls,
        ["https://rastreamento.correios.com.br/app/index.php?objetos=AA123456789BR"],
        "the custom link's %1$s filled"
    );
    assert_eq!(shipment.created_at.unwrap().timestamp(), 1_490_124_891);
    assert_eq!(
        shipment.updated_at, order.updated_at,
        "the order's modification"
    );
}

fn with(file: &str, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v = fixture_json(file);
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn kinds(events: &[PlatformEvent]) -> Vec<&'static str> {
    events.iter().map(PlatformEvent::kind).collect()
}

#[test]
fn status_and_dates_decide_paid_shipped_and_cancelled() {
    // Cancelled: only the cancellation, even with tracking.
    let b = with("order_updated_tracking.json", |o| {
        o["status"] = json!("cancelled")
    });
    assert_eq!(
        kinds(&decode("order.updated", &b).unwrap()),
        ["order_cancelled"]
    );
    // Refunded: marked cancelled (no tracking messages), reported as an update.
    let b = with("order_updated_tracking.json", |o| {
        o["status"] = json!("refunded")
    });
    let ev = decode("order.updated", &b).unwrap();
    assert_eq!(kinds(&ev), ["order_updated"]);
    let PlatformEvent::OrderUpdated { order } = &ev[0] else {
        panic!()
    };
    assert!(order.cancelled);
    // On hold with date_paid set: paid; pending with date_paid: not.
    let b = with("order_created.json", |o| o["status"] = json!("on-hold"));
    assert_eq!(
        kinds(&decode("order.updated", &b).unwrap()),
        ["order_updated", "order_paid"]
    );
    let b = with("order_created.json", |o| o["status"] = json!("pending"));
    assert_eq!(
        kinds(&decode("order.updated", &b).unwrap()),
        ["order_updated"]
    );
    let b = with("order_created.json", |o| {
        o["status"] = json!("on-hold");
        o["date_paid"] = json!(null);
        o["date_paid_gmt"] = json!(null);
    });
    assert_eq!(
        kinds(&decode("order.updated", &b).unwrap()),
        ["order_updated"]
    );
    // Processing with tracking: a confirmed shipment with a number (shipped to the flows).
    let b = with("order_updated_tracking.json", |o| {
        o["status"] = json!("processing")
    });
    let ev = decode("order.updated", &b).unwrap();
    let PlatformEvent::ShipmentUpdated { shipment } = &ev[2] else {
        panic!("{ev:?}")
    };
    assert_eq!(shipment.status, ShipmentStatus::Confirmed);
    // Completed without tracking items: one order-level shipment, unless turned off.
    let b = with("order_updated_tracking.json", |o| {
        o["meta_data"] = json!([]);
    });
    let ev = decode("order.updated", &b).unwrap();
    let PlatformEvent::ShipmentUpdated { shipment } = &ev[2] else {
        panic!("{ev:?}")
    };
    assert_eq!(shipment.id.as_str(), "order-723");
    assert!(shipment.tracking_numbers.is_empty());
    assert_eq!(
        shipment.created_at.unwrap().to_rfc3339(),
        "2017-03-21T19:54:51+00:00"
    );
    let site = Site::parse(SITE).unwrap();
    let off = Mapping::default().completed_ships(false);
    assert_eq!(
        kinds(&decode_topic("order.updated", &b, &site, &off).unwrap()),
        ["order_updated", "order_paid"]
    );
    // TrackShip's per-item status wins over the order's.
    let b = with("order_updated_tracking.json", |o| {
        o["meta_data"].as_array_mut().unwrap().push(json!({
            "id": 1, "key": "shipment_status",
            "value": [{"status": "out_for_delivery", "est_delivery_date": "2017-03-23"}]
        }));
    });
    let ev = decode("order.updated", &b).unwrap();
    let PlatformEvent::ShipmentUpdated { shipment } = &ev[2] else {
        panic!()
    };
    assert_eq!(shipment.status, ShipmentStatus::OutForDelivery);
    assert_eq!(
        shipment.estimated_delivery.unwrap().to_rfc3339(),
        "2017-03-23T00:00:00+00:00"
    );
    // A restored order is an update.
    assert_eq!(
        kinds(&decode("order.restored", &fixture("order_created.json")).unwrap()),
        ["order_updated", "order_paid"]
    );
    // A deleted one is cancelled, known by its id.
    let ev = decode("order.deleted", &fixture("order_deleted.json")).unwrap();
    let PlatformEvent::OrderCancelled { order } = &ev[0] else {
        panic!()
    };
    assert_eq!((order.id.as_str(), order.cancelled), ("727", true));
}

#[test]
fn a_body_naming_another_site_is_refused() {
    let b = with("order_created.json", |o| {
        o["_links"]["self"][0]["href"] =
            json!("https://other-shop.example/wp-json/wc/v3/orders/727");
    });
    let e = decode("order.created", &b).unwrap_err().to_string();
    assert!(e.contains("other-shop.example"), "{e}");
    let b = with("customer_updated.json", |c| {
        c["_links"]["collection"][0]["href"] =
            json!("https://other-shop.example/wp-json/wc/v3/customers");
    });
    assert!(decode("customer.updated", &b).is_err());
}

#[test]
fn a_customer_is_decoded_with_consent_where_a_plugin_records_it() {
    let ev = decode("customer.updated", &fixture("customer_updated.json")).unwrap();
    let PlatformEvent::CustomerUpdated { customer } = &ev[0] else {
        panic!()
    };
    assert_eq!(customer.id.as_str(), "25");
    assert_eq!(customer.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(customer.first_name.as_deref(), Some("John"));
    assert_eq!(customer.phone.as_deref(), Some("(555) 555-5555"));
    assert!(
        customer.consents.is_empty(),
        "WooCommerce records no consent"
    );
    assert_eq!(
        customer.consent(Purpose::Marketing, ChannelKind::Email),
        ConsentState::Unknown
    );
    let b = with("customer_updated.json", |c| {
        c["meta_data"] = json!([
            {"id": 1, "key": "_newsletter_opt_in", "value": "yes"},
            {"id": 2, "key": "_sms_opt_in", "value": "no"},
            {"id": 3, "key": "wpml_language", "value": "fr"}
        ]);
    });
    let m = Mapping::default()
        .consent("_newsletter_opt_in", Purpose::Marketing, ChannelKind::Email)
        .consent("_sms_opt_in", Purpose::Marketing, ChannelKind::Sms);
    let ev = decode_topic("customer.updated", &b, &Site::parse(SITE).unwrap(), &m).unwrap();
    let PlatformEvent::CustomerUpdated { customer } = &ev[0] else {
        panic!()
    };
    assert_eq!(
        customer.consent(Purpose::Marketing, ChannelKind::Email),
        ConsentState::Granted
    );
    assert_eq!(
        customer.consent(Purpose::Marketing, ChannelKind::Sms),
        ConsentState::Denied
    );
    assert_eq!(customer.locale.as_deref(), Some("fr"));
    // customer.deleted: a valid body, no sdk event for it.
    assert_eq!(
        kinds(&decode("customer.deleted", br#"{"id":25}"#).unwrap()),
        ["unrecognized"]
    );
}

#[test]
fn action_webhooks_are_checked_and_order_hooks_need_the_hydrator() {
    let body = fixture("action_order_status_completed.json");
    let e = decode("action.woocommerce_order_status_completed", &body)
        .unwrap_err()
        .to_string();
    assert!(e.contains("WooHydrator"), "{e}");
    assert_eq!(
        kinds(
            &decode(
                "action.woocommerce_add_to_cart",
                br#"{"action":"woocommerce_add_to_cart","arg":"e4da3b7fbbce2345d7772b0674a318d5"}"#
            )
            .unwrap()
        ),
        ["unrecognized"]
    );
    assert!(
        decode(
            "action.woocommerce_add_to_cart",
            br#"{"action":"woocommerce_new_order","arg":1}"#
        )
        .is_err()
    );
    assert!(decode("action.woocommerce_add_to_cart", br#"{"arg":1}"#).is_err());
}

#[test]
fn a_verified_body_decodes_through_the_source() {
    let src = source();
    let body = fixture("customer_updated.json");
    let v = verify(&src, &src.sign_for_test("customer.updated", &body), &body).unwrap();
    assert_eq!(v.dedupe_key, "customer.updated:25@2017-03-21T19:09:30");
    assert_eq!(
        kinds(&src.decode(&entry(v, &body)).unwrap()),
        ["customer_updated"]
    );
    // The signature covers the bytes: the same JSON re-serialised does not verify.
    let h = src.sign_for_test("customer.updated", &body);
    let reserialised = serde_json::to_vec(&fixture_json("customer_updated.json")).unwrap();
    assert_ne!(reserialised, body);
    assert_eq!(
        verify(&src, &h, &reserialised).unwrap_err(),
        Rejection::Mismatch
    );
}
