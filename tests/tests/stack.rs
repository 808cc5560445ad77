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
