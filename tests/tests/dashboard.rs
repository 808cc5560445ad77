//! The dashboard: key required, SVG charts and tables rendered, JSON and CSV exports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::http::dashboard::{Dashboard, ReportSource};
use aftercare::http::tracking::PageText;
use aftercare::model::{OrderId, SurveyKind, SurveyResponse};
use aftercare::report::{Fact, Report};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;

struct Fixed;
#[async_trait]
impl ReportSource for Fixed {
    async fn report(&self) -> Result<Report, aftercare::Error> {
        let facts: Vec<Fact> = [
            (10u8, "2026-03-02T10:00:00Z", "UPS"),
            (3, "2026-03-03T10:00:00Z", "DHL, Express"),
            (9, "2026-03-10T10:00:00Z", "UPS"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (s, at, carrier))| {
            let mut f = Fact::new(SurveyResponse {
                invitation_id: format!("i{i}"),
                kind: SurveyKind::Nps,
                order_id: OrderId::new(format!("{i}")),
                customer_id: None,
                score: *s,
                comment: None,
                via: "web".into(),
                answered_at: at.parse().unwrap(),
            });
            f.dims.insert("carrier".into(), (*carrier).into());
            f
        })
        .collect();
        Ok(Report::build(&facts, 6))
    }
}

struct Ids;
impl PageText for Ids {
    fn text(&self, _l: &str, id: &str) -> String {
        id.to_owned()
    }
}

fn router() -> axum::Router {
    Dashboard::new(
        Arc::new(Fixed),
        Arc::new(Ids),
        Secret::from("dash-key"),
        "ar",
    )
    .into_router()
}

async fn get(uri: &str, auth: Option<&str>) -> (StatusCode, String) {
    let mut r = Request::get(uri);
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    let resp = router()
        .oneshot(r.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let s = resp.status();
    (
        s,
        String::from_utf8(
            axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap(),
    )
}

#[tokio::test]
async fn the_key_is_required() {
    assert_eq!(get("/dashboard", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get("/dashboard?key=wrong", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/dashboard", Some("Bearer dash-ke")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/dashboard/report.json", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(get("/dashboard?key=dash-key", None).await.0, StatusCode::OK);
    assert_eq!(
        get("/dashboard", Some("Bearer dash-key")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn charts_tables_and_exports() {
    let (_, html) = get("/dashboard?key=dash-key", None).await;
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
    assert_eq!(html.matches("<svg").count(), 2, "trend and distribution");
    assert!(html.contains("<polyline"), "two weeks make a line");
    assert!(
        html.contains("<title>10: 1</title>") && html.contains("<title>3: 1</title>"),
        "bars per score"
    );
    assert!(
        html.contains(r#"NPS</dt><dd><bdi dir="ltr">33 ± "#),
        "2 promoters, 1 detractor of 3: NPS 33"
    );
    assert!(html.contains("50%"), "3 answers of 6 invitations");
    let (_, json) = get("/dashboard/report.json", Some("Bearer dash-key")).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["responses"], 3);
    assert_eq!(v["nps_distribution"][10], 1);
    let (_, csv) = get("/dashboard/report.csv?key=dash-key", None).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "group,key,responses,nps,nps_margin,csat,csat_margin"
    );
    assert!(lines[1].starts_with("overall,,3,33.3,"), "{}", lines[1]);
    assert!(
        csv.contains("carrier,\"DHL, Express\",1,-100.0"),
        "values with commas are quoted: {csv}"
    );
}
