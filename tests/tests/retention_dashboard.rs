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

/// Issue 18: the comments are searchable in the dashboard, over real SQLite: the key is
/// required, the search is case-insensitive, the customer's text and the query come back
/// escaped, 50 a page with a next link, and the CSV (formulas defused) and JSON exports
/// carry every match.
#[tokio::test]
async fn comments_are_searched_paged_escaped_and_exported() {
    use aftercare::http::comments::StoreComments;
    use aftercare::model::{SurveyKind, SurveyResponse};
    use aftercare::store::SurveyStore;
    let clock = Arc::new(ManualClock::new(day(100)));
    let s = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let texts = |i: usize| match i {
        0 => "<script>alert(1)</script> the box came LATE".to_owned(),
        1 => "=HYPERLINK(\"http://x\") late again".to_owned(),
        2 => "Kargo geç geldi".to_owned(),
        n => format!("late parcel number {n}"),
    };
    for i in 0..63usize {
        let mut r = SurveyResponse::new(
            format!("inv-{i}"),
            SurveyKind::Nps,
            OrderId::from(format!("{}", 5000 + i)),
            (i % 11) as u8,
            "web",
            day(50) + chrono::Duration::minutes(i as i64),
        );
        r.comment = Some(texts(i));
        s.record_response(&r).await.unwrap();
    }
    // An answer without a comment is not listed.
    s.record_response(&SurveyResponse::new(
        "inv-x",
        SurveyKind::Nps,
        OrderId::from("9"),
        9,
        "web",
        day(60),
    ))
    .await
    .unwrap();
    let router = Dashboard::new(Arc::new(Empty), Arc::new(Ids), Secret::from("k"), "en")
        .clock(clock.clone())
        .with_comments(Arc::new(StoreComments::new(s.clone(), clock)))
        .into_router();
    assert_eq!(
        get(&router, "/dashboard/comments?q=late", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, html) = get(&router, "/dashboard/comments?q=LaTe", Some("k")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("62 comment(s) containing “LaTe”; page 1 of 2"),
        "{html}"
    );
    assert_eq!(html.matches("<tr><td>").count(), 50);
    assert!(html.contains("page=2\" rel=\"next\""), "{html}");
    assert!(!html.contains("<script>alert"), "the comment is escaped");
    let (_, page2) = get(&router, "/dashboard/comments?q=LaTe&page=2", Some("k")).await;
    assert_eq!(page2.matches("<tr><td>").count(), 12);
    assert!(
        page2.contains("&lt;script&gt;alert(1)&lt;/script&gt; the box came LATE"),
        "oldest last: {page2}"
    );
    let (_, turkish) = get(&router, "/dashboard/comments?q=GE%C3%87", Some("k")).await;
    assert!(turkish.contains("1 comment(s)"), "{turkish}");
    let (_, xss) = get(&router, "/dashboard/comments?q=%3Cb%3E", Some("k")).await;
    assert!(!xss.contains("<b>") && xss.contains("&lt;b&gt;"), "{xss}");
    let (_, all) = get(&router, "/dashboard/comments", Some("k")).await;
    assert!(all.contains("63 comment(s); page 1 of 2"), "{all}");

    let (_, csv) = get(&router, "/dashboard/comments.csv?q=late", Some("k")).await;
    assert!(
        csv.starts_with("answered_at,kind,score,order_id,via,comment\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 63, "a header and 62 matches");
    assert!(
        csv.contains(",\"'=HYPERLINK(\"\"http://x\"\") late again\""),
        "{csv}"
    );
    let (_, json) = get(&router, "/dashboard/comments.json?q=late", Some("k")).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["total"], 62);
    assert_eq!(v["answers"].as_array().unwrap().len(), 62);
    assert_eq!(v["query"], "late");
}
