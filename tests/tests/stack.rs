//! `Stack::builder` and the flow builders refuse an incomplete or inconsistent stack with a
//! message that says what to call, instead of a stack that acknowledges webhooks it cannot
//! decode or sends without its protections.
use std::sync::Arc;

use aftercare::flows::feedback::{FeedbackFlow, FollowUpSettings, SurveySettings};
use aftercare::flows::tracking::TrackingFlow;
use aftercare::stack::{PlatformParts, Stack};
use aftercare::webhook::Secret;
use aftercare_sandbox::Sandbox;
use aftercare_sqlite::SqliteStore;

fn err<T: std::fmt::Debug>(r: Result<T, aftercare::Error>) -> String {
    r.expect_err("the builder refuses").to_string()
}

#[tokio::test]
async fn an_incomplete_stack_says_what_is_missing() {
    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-01T10:00:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(aftercare_shopify::ShopifyWebhooks::new(Secret::from("s")));
    let platform = || PlatformParts::new("shopify", source.clone(), sb.shop.clone());
    let email = sb.channel(aftercare::model::ChannelKind::Email).clone();
    let full = || {
        Stack::builder(store.clone())
            .platform(platform())
            .channel(email.clone())
            .shop_name("Shop")
            .public_url("https://shop.example")
            .link_key(Secret::from("k"))
    };
    assert!(full().build().is_ok());
    let e = err(Stack::builder(store.clone())
        .channel(email.clone())
        .shop_name("Shop")
        .public_url("https://shop.example")
        .link_key(Secret::from("k"))
        .build());
    assert!(e.contains("no platform") && e.contains(".platform("), "{e}");
    let e = err(Stack::builder(store.clone())
        .platform(platform())
        .shop_name("Shop")
        .public_url("https://shop.example")
        .link_key(Secret::from("k"))
        .build());
    assert!(e.contains("no channel"), "{e}");
    let e = err(full().source("shopify", source.clone()).build());
    assert!(e.contains("two webhook sources are named `shopify`"), "{e}");
    let e = err(full().follow_up(FollowUpSettings::default()).build());
    assert!(e.contains("add .survey("), "{e}");
    let e = err(full()
        .survey(SurveySettings::default())
        .follow_up(FollowUpSettings::default().with_detractor_tag("unhappy"))
        .build());
    assert!(e.contains("annotator"), "{e}");
    assert!(
        full()
            .survey(SurveySettings::default())
            .build()
            .is_ok_and(|s| s.feedback().is_some())
    );
}

#[tokio::test]
async fn a_flow_builder_names_the_missing_part() {
    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-01T10:00:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let e = err(TrackingFlow::builder(store.clone())
        .orders(sb.shop.clone())
        .customers(sb.shop.clone())
        .shop_name("Shop")
        .build());
    assert!(e.contains("no link key") && e.contains(".link_key("), "{e}");
    let e = err(TrackingFlow::builder(store.clone())
        .orders(sb.shop.clone())
        .customers(sb.shop.clone())
        .link_key(Secret::from("k"))
        .build());
    assert!(e.contains("renderer") && e.contains(".shop_name("), "{e}");
    let e = err(FeedbackFlow::builder(store.clone())
        .customers(sb.shop.clone())
        .shop_name("Shop")
        .link_key(Secret::from("k"))
        .build());
    assert!(e.contains("order source"), "{e}");
    assert!(
        FeedbackFlow::builder(store)
            .orders(sb.shop.clone())
            .customers(sb.shop.clone())
            .shop_name("Shop")
            .link_key(Secret::from("k"))
            .build()
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_says_why_a_preferred_channel_was_passed_over() {
    use aftercare::model::{ChannelKind, OrderId};
    use aftercare::store::{Decision, Ledger};
    // Daytime in Istanbul when the order ships.
    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-01T12:00:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(
        aftercare_shopify::ShopifyWebhooks::new(Secret::from("s")).for_shop(sb.shop.domain()),
    );
    let stack = Stack::builder(store.clone())
        .platform(PlatformParts::new("shopify", source, sb.shop.clone()))
        .channel(sb.channel(ChannelKind::Sms).clone())
        .channel(sb.channel(ChannelKind::Email).clone())
        .shop_name("Shop")
        .public_url("https://shop.example")
        .link_key(Secret::from("k"))
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
    // The Turkish customer answered STOP to SMS.
    let shipped = sb.ship("tr-TR").unwrap();
    for d in &shipped.deliveries {
        assert_eq!(sb.sender.post(&url, d).await.unwrap(), 200);
    }
    stack.processor().drain().await.unwrap();
    let ledger = store
        .ledger_for_order(&OrderId::new(shipped.order.to_string()))
        .await
        .unwrap();
    assert!(
        ledger.iter().any(|e| e.decision == Decision::Enqueued
            && e.reason
                .contains("on email because sms: the customer opted out")),
        "{:?}",
        ledger.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );
}
