//! The dashboard's retention pages over a retention store (real SQLite): the key is
//! required, the page shows the lateness comparison in words with its interval and both SVG
//! charts, and the JSON and CSV carry the same figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use aftercare::clock::ManualClock;
use aftercare::http::dashboard::{Dashboard, ReportSource};
use aftercare::http::retention::StoreRetention;
use aftercare::http::tracking::PageText;
use aftercare::model::{OrderId, ShopId};
use aftercare::report::Report;
use aftercare::retention::{OrderFact, RetentionSettings, RetentionStore};
use aftercare::webhook::Secret;
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use tower::ServiceExt as _;

struct Empty;
#[async_trait]
impl ReportSource for Empty {
    async fn report(&self) -> Result<Report, aftercare::Error> {
        Ok(Report::build(&[], 0))
    }
}

struct Ids;
impl PageText for Ids {
    fn text(&self, _l: &str, id: &str) -> String {
        id.to_owned()
    }
}

fn day(d: i64) -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::days(d)
}

/// 60 customers delivered on time (40 re-order within 90 days), 40 delivered 3+ days late
/// (10 re-order): 66.7 % vs 25.0 %.
async fn store() -> Arc<SqliteStore> {
    let s = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let shop = Some(ShopId::from("demo"));
    for i in 0..100i64 {
        let late = i >= 60;
        let again = if late { i < 70 } else { i < 40 };
        let first = OrderId::from(format!("o{i}"));
        s.record_order(&OrderFact::new(
            shop.clone(),
            first.clone(),
            format!("c{i}"),
            day(i % 30),
        ))
        .await
        .unwrap();
        let bucket = if late { "3+ days late" } else { "on time" };
        s.set_experience(
            shop.as_ref(),
            &first,
            &BTreeMap::from([("lateness".to_owned(), bucket.to_owned())]),
        )
        .await
        .unwrap();
        if again {
            s.record_order(&OrderFact::new(
                shop.clone(),
                format!("o{i}-2"),
                format!("c{i}"),
                day(i % 30 + 40),
            ))
            .await
            .unwrap();
        }
    }
    s
}

async fn get(router: &axum::Router, uri: &str, key: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(uri);
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn retention_pages_show_the_lateness_effect_with_its_interval() {
    let clock = Arc::new(ManualClock::new(day(200)));
    let source = StoreRetention::new(
        store().await,
        Some(ShopId::from("demo")),
        RetentionSettings::default(),
        clock.clone(),
    );
    let router = Dashboard::new(Arc::new(Empty), Arc::new(Ids), Secret::from("k"), "en")
        .clock(clock)
        .with_retention(Arc::new(source))
        .into_router();
    assert_eq!(
        get(&router, "/dashboard/retention", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&router, "/dashboard/retention.csv", Some("wrong"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, html) = get(&router, "/dashboard/retention", Some("k")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Customers whose first delivery was 3+ days late re-ordered within 90 days less often than customers whose first delivery was on time, by 41.7 points (25.0% of 40 vs 66.7% of 60; 95% CI for the difference"),
        "{html}"
    );
    assert_eq!(html.matches("<svg").count(), 2, "two charts");
    assert!(!html.contains("style="), "the CSP allows no inline style");
    let (_, json) = get(&router, "/dashboard/retention.json", Some("k")).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["customers"], 100);
    assert_eq!(v["breakdowns"]["lateness"]["on time"]["successes"], 40);
    assert_eq!(v["breakdowns"]["lateness"]["on time"]["state"], "measured");
    let (_, csv) = get(&router, "/dashboard/retention.csv", Some("k")).await;
    assert!(
        csv.starts_with("section,key,value,n,successes,rate,low,high\n"),
        "{csv}"
    );
    assert!(csv.contains("lateness,,3+ days late,40,10,25.00,"), "{csv}");
}
