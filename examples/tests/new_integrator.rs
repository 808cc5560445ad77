//! The new integrator's first server, `examples/minimal_shopify.rs`, built with
//! `Stack::builder` and nothing else: it is short, and it is safe without asking — a shipment
//! at 03:00 in the customer's time zone is not messaged until the morning.
use std::sync::Arc;

use aftercare::model::{ChannelKind, OrderId};
use aftercare::store::{Decision, Ledger};
use aftercare::webhook::Secret;
use aftercare_sandbox::Sandbox;
use chrono::Timelike;

#[allow(dead_code)]
#[path = "../examples/minimal_shopify.rs"]
mod minimal;

const SECRET: &str = "shpss_new_integrator";

#[test]
fn the_minimal_server_is_under_80_lines() {
    let text = include_str!("../examples/minimal_shopify.rs");
    let lines = text.lines().count();
    assert!(lines < 80, "examples/minimal_shopify.rs has {lines} lines");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_minimal_server_sends_nothing_at_night_and_everything_in_the_morning() {
    // The sandbox ships 20 h 01 min after its start: 00:00 UTC, 03:00 in Riyadh.
    let sb = Sandbox::quiet(
        Secret::from(SECRET),
        "2026-03-01T03:59:00Z".parse().unwrap(),
    );
    let store = Arc::new(
        aftercare_sqlite::SqliteStore::open_temporary()
            .await
            .unwrap(),
    );
    let email = sb.channel(ChannelKind::Email).clone();
    let stack = minimal::stack(
        store.clone(),
        sb.shop.domain(),
        Secret::from(SECRET),
        Some(sb.shop.clone()),
        email.clone(),
        Secret::from("link key"),
        "https://shop.example/aftercare",
    )
    // The test moves time by hand; everything else is as the example builds it.
    .clock(sb.clock.clone())
    .build()
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        stack.router(),
        aftercare::http::ServeOptions::default(),
    ));
    let shipped = sb.ship("ar-SA").unwrap();
    let local =
        aftercare::clock::Clock::now(sb.clock.as_ref()).with_timezone(&chrono_tz::Asia::Riyadh);
    assert!(
        local.hour() < 8,
        "the shipment is at night in Riyadh: {local}"
    );
    for d in &shipped.deliveries {
        assert_eq!(sb.sender.post(&url, d).await.unwrap(), 200);
    }
    stack.processor().drain().await.unwrap();
    stack.dispatcher().drain().await.unwrap();
    assert!(email.sent().is_empty(), "nothing is sent at 03:00");
    let order = OrderId::new(shipped.order.to_string());
    let ledger = store.ledger_for_order(&order).await.unwrap();
    assert!(
        ledger
            .iter()
            .any(|e| e.decision == Decision::Deferred && e.reason.contains("quiet hours")),
        "the ledger says why: {:?}",
        ledger.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );
    // 08:01 in Riyadh: the deferred message goes out, once.
    sb.clock
        .advance(chrono::Duration::hours(5) + chrono::Duration::minutes(1));
    stack.dispatcher().drain().await.unwrap();
    let sent = email.sent();
    assert_eq!(sent.len(), 1, "the shipped message, in the morning");
    assert!(
        sent[0].text.contains("290000000001"),
        "the tracking number: {}",
        sent[0].text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_minimal_server_sends_the_tracking_message_without_an_admin_api_token() {
    // Daytime in Riyadh when the order ships (20 h 01 min after the start: 12:00 local).
    let sb = Sandbox::quiet(
        Secret::from(SECRET),
        "2026-03-01T12:59:00Z".parse().unwrap(),
    );
    let store = Arc::new(
        aftercare_sqlite::SqliteStore::open_temporary()
            .await
            .unwrap(),
    );
    let email = sb.channel(ChannelKind::Email).clone();
    // No API at all: every read the stack would make of Shopify's Admin API is refused.
    let stack = minimal::stack(
        store.clone(),
        sb.shop.domain(),
        Secret::from(SECRET),
        None::<Arc<aftercare::platform::WebhooksOnly>>,
        email.clone(),
        Secret::from("link key"),
        "https://shop.example/aftercare",
    )
    .clock(sb.clock.clone())
    .build()
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        stack.router(),
        aftercare::http::ServeOptions::default(),
    ));
    let shipped = sb.ship("ar-SA").unwrap();
    for d in &shipped.deliveries {
        let status = sb
            .sender
            .post(&format!("{base}/webhooks/shopify"), d)
            .await
            .unwrap();
        assert_eq!(status, 200);
    }
    stack.processor().drain().await.unwrap();
    stack.dispatcher().drain().await.unwrap();
    let sent = email.sent();
    assert_eq!(
        sent.len(),
        1,
        "the shipped message, from webhook data alone"
    );
    let customer = sb.shop.customer_record(shipped.customer).unwrap();
    let first = customer.first_name.clone();
    assert!(
        sent[0].text.contains(&first),
        "the greeting names the customer from the order's embedded record ({first}): {}",
        sent[0].text
    );
    assert!(sent[0].text.contains("290000000001"), "{}", sent[0].text);
    // The tracking page in the message opens from what the webhooks said.
    let link = sent[0]
        .text
        .split_whitespace()
        .find(|w| w.starts_with("https://shop.example/aftercare/t/"))
        .expect("a tracking-page link")
        .trim_end_matches(['.', ')', ','])
        .replace("https://shop.example/aftercare", &base);
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200, "{link}");
    let html = page.text().await.unwrap();
    assert!(html.contains("290000000001"), "the page shows the shipment");
}
