//! The dashboard's pages speak the dashboard's language: the retention page (added after
//! the rest was translated) in every built-in locale, right to left in Arabic, without an
//! English label left over.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use aftercare::clock::ManualClock;
use aftercare::http::dashboard::{Dashboard, ReportSource};
use aftercare::http::retention::StoreRetention;
use aftercare::http::tracking::PageText;
use aftercare::l10n::{BUILTIN_LOCALES, Catalogs};
use aftercare::model::OrderId;
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

fn day(d: i64) -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::days(d)
}

/// 60 customers delivered on time, 40 late; some order again.
async fn store() -> Arc<SqliteStore> {
    let s = Arc::new(SqliteStore::open_temporary().await.unwrap());
    for i in 0..100i64 {
        let late = i >= 60;
        let first = OrderId::from(format!("o{i}"));
        s.record_order(&OrderFact::new(
            None,
            first.clone(),
            format!("c{i}"),
            day(i % 30),
        ))
        .await
        .unwrap();
        let bucket = if late { "3+ days late" } else { "on time" };
        s.set_experience(
            None,
            &first,
            &BTreeMap::from([("lateness".to_owned(), bucket.to_owned())]),
        )
        .await
        .unwrap();
        if (late && i < 70) || (!late && i < 40) {
            s.record_order(&OrderFact::new(
                None,
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

#[tokio::test]
async fn the_retention_page_is_in_the_dashboards_language_in_every_locale() {
    let clock = Arc::new(ManualClock::new(day(200)));
    let text = Arc::new(Catalogs::new("Dukkan"));
    let router = Dashboard::new(Arc::new(Empty), text.clone(), Secret::from("k"), "en")
        .clock(clock.clone())
        .with_retention(Arc::new(StoreRetention::new(
            store().await,
            None,
            RetentionSettings::default(),
            clock,
        )))
        .into_router();
    let english = [
        "Customers",
        "Re-ordered within",
        "Ordered twice",
        "What the experience costs",
        "Cohorts",
        "First order",
        "too few",
        "Too few",
        "Repeat rate by",
        "whose first delivery",
        " mo<",
        "Delivery lateness",
        "on time",
    ];
    for locale in BUILTIN_LOCALES {
        let resp = router
            .clone()
            .oneshot(
                Request::get(format!("/dashboard/retention?lang={locale}"))
                    .header("authorization", "Bearer k")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let html = String::from_utf8(
            axum::body::to_bytes(resp.into_body(), 1 << 22)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        let dir = if locale == "ar" { "rtl" } else { "ltr" };
        assert!(
            html.contains(&format!(r#"<html lang="{locale}" dir="{dir}">"#)),
            "{locale}: {html:.300}"
        );
        assert!(html.contains(&text.text(locale, "ret-title")), "{locale}");
        assert!(
            html.contains(&text.text(locale, "dash-lateness-3-plus")),
            "{locale}: the lateness groups are named"
        );
        if locale != "en" {
            let left: Vec<_> = english.iter().filter(|e| html.contains(**e)).collect();
            assert!(left.is_empty(), "{locale}: English left: {left:?}\n{html}");
        }
        // Back to the dashboard, in the same language.
        assert!(html.contains(&format!(r#"<a href="/dashboard?lang={locale}">"#)));
    }
}
