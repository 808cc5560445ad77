#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Backfills against a local mock that enforces Shopify's rate limits (GraphQL cost bucket
//! with a restore rate; REST bucket of 40 leaking 2/s). The mock counts every request it
//! refuses for exceeding the limit; the client must cause none.

use crate::common;

use std::time::Duration;

use aftercare::model::OrderId;
use aftercare::platform::OrderSource;
use aftercare_shopify::{ShopifyClient, ShopifyConfig};
use chrono::{TimeZone, Utc};
use common::mock::{FIRST_ID, MockShop};
use futures::StreamExt;

fn client(mock: &MockShop, page: u32) -> ShopifyClient {
    ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "shpat_test")
            .base_url(mock.url())
            .page_size(page),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_backfill_of_1000_orders_is_never_throttled() {
    // Bucket of 100 points restoring 600/s (fast, so the test takes ~2 s); each page of 10
    // costs 12 points, so 100 pages need 1200 points: most of the run is paced.
    let mock = MockShop::start(1000, 100.0, 600.0, 40, 2.0).await;
    let c = client(&mock, 10);
    let since = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut ids = Vec::new();
    let mut s = c.updated_since(since);
    while let Some(o) = s.next().await {
        ids.push(o.unwrap().id);
    }
    assert_eq!(ids.len(), 1000);
    assert_eq!(ids[0], OrderId::from(FIRST_ID));
    assert_eq!(ids[999], OrderId::from(FIRST_ID + 999));
    let k = mock.counters();
    assert_eq!(k.refused, 0, "requests refused for exceeding the bucket");
    assert_eq!(k.served, 100);
    // The client learnt the real bucket from `throttleStatus`.
    let (_, max, rate) = c.cost_bucket().snapshot();
    assert_eq!((max, rate), (100.0, 600.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_streams_share_one_bucket() {
    let mock = MockShop::start(300, 60.0, 600.0, 40, 2.0).await;
    let c = client(&mock, 10);
    let since = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    // Seed the model with the real bucket first, then run four streams at once.
    let _ = c.updated_since(since).take(1).collect::<Vec<_>>().await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.updated_since(since).count().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 300);
    }
    assert_eq!(mock.counters().refused, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_answer_waits_and_retries() {
    // A client that believes the bucket is huge sends too fast at first; the mock answers
    // THROTTLED; the client then waits (cost - available) / restoreRate and finishes.
    let mock = MockShop::start(200, 30.0, 300.0, 40, 2.0).await;
    let c = ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "shpat_test")
            .base_url(mock.url())
            .page_size(10)
            .initial_cost_bucket(10_000.0, 10_000.0),
    )
    .unwrap();
    // Hammer with 4 streams before the first answer corrects the model.
    let since = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.updated_since(since).count().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let k = mock.counters();
    assert_eq!(k.served, 4 * 20, "every page was eventually served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_backfill_honours_the_leaky_bucket() {
    // Standard plan: 40 requests, leaking 2/s. 50 pages: 40 at once, then 10 paced at 2/s.
    let mock = MockShop::start(50, 100.0, 100.0, 40, 2.0).await;
    let c = ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "shpat_test")
            .base_url(mock.url())
            .rest_bucket(40, 2.0),
    )
    .unwrap();
    let start = std::time::Instant::now();
    let mut next = Some("orders.json?limit=1".to_owned());
    let mut n = 0;
    while let Some(u) = next {
        let page = c.rest_get(&u).await.unwrap();
        n += page.body["orders"].as_array().unwrap().len();
        next = page.next;
    }
    assert_eq!(n, 50);
    let k = mock.counters();
    assert_eq!(k.rest_refused, 0);
    assert_eq!(k.rest_served, 50);
    assert!(
        start.elapsed() >= Duration::from_secs(4),
        "the 10 requests past the bucket were paced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_429_waits_retry_after() {
    // A bucket already full (another app process used it): the mock answers 429 with
    // `Retry-After: 2.0`; the client waits two seconds, not two milliseconds.
    let mock = MockShop::start(5, 100.0, 100.0, 1, 0.5).await;
    let c = ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "shpat_test")
            .base_url(mock.url())
            .rest_bucket(40, 100.0),
    )
    .unwrap();
    let start = std::time::Instant::now();
    c.rest_get("orders.json?limit=1").await.unwrap();
    c.rest_get("orders.json?limit=1").await.unwrap();
    assert!(mock.counters().rest_refused >= 1);
    assert!(start.elapsed() >= Duration::from_secs(2));
}
