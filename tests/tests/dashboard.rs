//! The dashboard: key required (bearer or signed-in session, never in the URL), SVG charts
//! and tables rendered, JSON and CSV exports, the key kept out of the logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aftercare::clock::ManualClock;
use aftercare::http::dashboard::{Dashboard, ReportSource};
use aftercare::http::tracking::PageText;
use aftercare::model::{OrderId, SurveyKind, SurveyResponse};
use aftercare::report::{Fact, Report};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
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
            let mut f = Fact::new(SurveyResponse::new(
                format!("i{i}"),
                SurveyKind::Nps,
                OrderId::new(format!("{i}")),
                *s,
                "web",
                at.parse().unwrap(),
            ));
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

const KEY: &str = "dash-key";

fn dashboard(key: &str, clock: Arc<ManualClock>) -> Dashboard {
    Dashboard::new(Arc::new(Fixed), Arc::new(Ids), Secret::from(key), "ar").clock(clock)
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new("2026-06-01T09:00:00Z".parse().unwrap()))
}

fn router() -> axum::Router {
    dashboard(KEY, clock()).into_router()
}

async fn send(router: &axum::Router, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

async fn get_with(router: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut r = Request::get(uri);
    for (n, v) in headers {
        r = r.header(*n, *v);
    }
    send(router, r.body(Body::empty()).unwrap()).await.0
}

async fn get(uri: &str, auth: Option<&str>) -> (StatusCode, String) {
    let mut r = Request::get(uri);
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    let (s, _, body) = send(&router(), r.body(Body::empty()).unwrap()).await;
    (s, body)
}

fn login_request(key: &str) -> Request<Body> {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("key", key)
        .finish();
    Request::post("/dashboard/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// Signs in; returns the `Set-Cookie` header and the `name=value` pair to send back.
async fn sign_in(router: &axum::Router, key: &str) -> (String, String) {
    let (status, headers, _) = send(router, login_request(key)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/dashboard");
    let set = headers["set-cookie"].to_str().unwrap().to_owned();
    let pair = set.split(';').next().unwrap().to_owned();
    (set, pair)
}

#[tokio::test]
async fn the_key_is_required() {
    assert_eq!(get("/dashboard", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get("/dashboard", Some("Bearer dash-ke")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/dashboard", Some("Bearer dash-key2")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/dashboard", Some("Basic ZGFzaC1rZXk=")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/dashboard/report.json", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/dashboard/report.csv", Some("Bearer wrong")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/dashboard", Some("Bearer dash-key")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get("/dashboard/report.json", Some("Bearer dash-key"))
            .await
            .0,
        StatusCode::OK
    );
    // An empty key opens the dashboard to no one, an empty bearer included.
    let closed = dashboard("", clock()).into_router();
    assert_eq!(
        get_with(&closed, "/dashboard", &[("authorization", "Bearer ")]).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_key_in_the_url_no_longer_opens_it() {
    // The key in a URL ends up in access logs, history and Referer headers.
    assert_eq!(
        get("/dashboard?key=dash-key", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/dashboard/report.csv?key=dash-key", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn without_credentials_a_browser_gets_the_sign_in_form() {
    let (status, html) = get("/dashboard", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        html.contains(r#"<form method="post" action="/dashboard/login""#),
        "{html}"
    );
    assert!(html.contains(r#"name="key" type="password""#), "{html}");
    assert!(!html.contains("dash-login-wrong"), "no error before a try");
}

#[tokio::test]
async fn signing_in_sets_a_strict_session_cookie_that_opens_the_dashboard() {
    let clock = clock();
    let router = dashboard(KEY, clock.clone()).into_router();
    let (set, pair) = sign_in(&router, KEY).await;
    let attrs: Vec<&str> = set.split(';').map(str::trim).collect();
    for a in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/dashboard",
        "Max-Age=43200",
    ] {
        assert!(attrs.contains(&a), "{a} in {set}");
    }
    let (name, value) = pair.split_once('=').unwrap();
    assert_eq!(name, "aftercare_dashboard");
    assert!(value.len() > 40, "an opaque token: {value}");
    assert!(!set.contains(KEY), "never the key itself: {set}");

    for uri in [
        "/dashboard",
        "/dashboard/report.json",
        "/dashboard/report.csv",
    ] {
        assert_eq!(
            get_with(&router, uri, &[("cookie", &pair)]).await,
            StatusCode::OK,
            "{uri}"
        );
    }
    // Among other cookies too.
    let several = format!("theme=dark; {pair}; lang=ar");
    assert_eq!(
        get_with(&router, "/dashboard", &[("cookie", &several)]).await,
        StatusCode::OK
    );
    // A signed-in page offers to sign out.
    let (_, _, html) = send(
        &router,
        Request::get("/dashboard")
            .header("cookie", &pair)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(html.contains(r#"action="/dashboard/logout""#));

    // Altered, from a dashboard with another key, or expired: refused.
    let altered = format!("{}x", pair);
    assert_eq!(
        get_with(&router, "/dashboard", &[("cookie", &altered)]).await,
        StatusCode::UNAUTHORIZED
    );
    let other = dashboard("another-key", clock.clone()).into_router();
    assert_eq!(
        get_with(&other, "/dashboard", &[("cookie", &pair)]).await,
        StatusCode::UNAUTHORIZED
    );
    clock.advance(chrono::Duration::hours(12) + chrono::Duration::seconds(2));
    assert_eq!(
        get_with(&router, "/dashboard", &[("cookie", &pair)]).await,
        StatusCode::UNAUTHORIZED,
        "sessions end after 12 hours"
    );
}

#[tokio::test]
async fn signing_out_removes_the_cookie() {
    let router = router();
    let (status, headers, _) = send(
        &router,
        Request::post("/dashboard/logout")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = headers["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("aftercare_dashboard=;"), "{set}");
    assert!(set.contains("Max-Age=0") && set.contains("Path=/dashboard"));
}

#[tokio::test]
async fn a_wrong_key_is_refused_at_sign_in() {
    let router = router();
    // Wrong in the last byte, a prefix, longer, empty, unrelated: all refused alike. (The
    // comparison is of SHA-256 digests with `subtle`, so neither the position of the first
    // difference nor the length shows in the timing; timing itself is not asserted.)
    for wrong in ["dash-kez", "dash-ke", "dash-key-", "", "x"] {
        let (status, headers, html) = send(&router, login_request(wrong)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(headers.get("set-cookie").is_none(), "{wrong:?}");
        assert!(
            html.contains("dash-login-wrong") && html.contains("/dashboard/login"),
            "the form again, with the error: {html}"
        );
    }
}

/// The log lines written while `f` runs (every level).
async fn logs_of<F: std::future::Future<Output = ()>>(f: F) -> String {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    f.await;
    drop(guard);
    String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn the_key_never_appears_in_the_logs() {
    const SECRET: &str = "k3y-Never-Logged-7f1c";
    let router = dashboard(SECRET, clock()).into_router();
    let logs = logs_of(async {
        let bearer = format!("Bearer {SECRET}");
        let in_url = format!("/dashboard?key={SECRET}");
        assert_eq!(
            get_with(&router, &in_url, &[]).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            get_with(&router, "/dashboard", &[("authorization", &bearer)]).await,
            StatusCode::OK
        );
        let (status, _, _) = send(&router, login_request("k3y-Never-Logged-7f1d")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        sign_in(&router, SECRET).await;
    })
    .await;
    // The logging works: the deprecated form and the refused sign-in are there...
    assert!(logs.contains("query string"), "{logs}");
    assert!(logs.contains("sign-in refused"), "{logs}");
    // ...and no key, right or wrong.
    assert!(!logs.contains("k3y-Never-Logged"), "{logs}");
    assert!(
        !format!("{:?}", dashboard(SECRET, clock())).contains(SECRET),
        "nor in Debug"
    );
}

#[tokio::test]
async fn charts_tables_and_exports() {
    let (_, html) = get("/dashboard", Some("Bearer dash-key")).await;
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
    assert_eq!(html.matches("<svg").count(), 2, "trend and distribution");
    assert!(html.contains("<polyline"), "two weeks make a line");
    assert!(
        html.contains("<title>10: 1</title>") && html.contains("<title>3: 1</title>"),
        "bars per score"
    );
    // Three answers are too few for a score (issue #15, item 9): the count is shown instead.
    assert!(
        html.contains("NPS</dt><dd>dash-too-few <small><bdi dir=\"ltr\">(n = 3)</bdi></small>"),
        "{html}"
    );
    assert!(!html.contains(" ± "), "no score from 3 answers: {html}");
    assert!(
        html.contains("<small><bdi dir=\"ltr\">(3 / 6)</bdi></small>"),
        "a ratio keeps its order in Arabic"
    );
    assert!(
        html.contains("href=\"/dashboard/report.csv\"")
            && html.contains("href=\"/dashboard/report.json\""),
        "the exports are linked"
    );
    assert!(
        html.matches("<thead>").count() >= 2,
        "breakdown tables have headers: {html}"
    );
    let scored = Dashboard::new(Arc::new(Fixed), Arc::new(Ids), Secret::from(KEY), "ar")
        .clock(clock())
        .min_answers(3)
        .into_router();
    let req = Request::get("/dashboard")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let (_, _, scored) = send(&scored, req).await;
    assert!(
        scored.contains(r#"NPS</dt><dd><bdi dir="ltr">33 ± "#),
        "2 promoters, 1 detractor of 3: NPS 33"
    );
    assert!(html.contains("50%"), "3 answers of 6 invitations");
    let (_, json) = get("/dashboard/report.json", Some("Bearer dash-key")).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["responses"], 3);
    assert_eq!(v["nps_distribution"][10], 1);
    let (_, csv) = get("/dashboard/report.csv", Some("Bearer dash-key")).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "group,key,responses,nps,nps_margin,csat,csat_margin,ces,ces_margin"
    );
    assert!(lines[1].starts_with("overall,,3,33.3,"), "{}", lines[1]);
    assert!(
        csv.contains("carrier,\"DHL, Express\",1,-100.0"),
        "values with commas are quoted: {csv}"
    );
}

/// CES answers have their own score and chart (1-7), beside NPS and CSAT, and their own
/// columns in the CSV export.
#[tokio::test]
async fn ces_gets_its_own_score_chart_and_columns() {
    struct Mixed;
    #[async_trait]
    impl ReportSource for Mixed {
        async fn report(&self) -> Result<Report, aftercare::Error> {
            let answers = [
                (SurveyKind::Nps, 9u8),
                (SurveyKind::Csat, 4),
                (SurveyKind::Ces, 7),
                (SurveyKind::Ces, 6),
                (SurveyKind::Ces, 2),
            ];
            let facts: Vec<Fact> = answers
                .iter()
                .enumerate()
                .map(|(i, (kind, score))| {
                    Fact::new(SurveyResponse::new(
                        format!("i{i}"),
                        *kind,
                        OrderId::new(format!("{i}")),
                        *score,
                        "web",
                        "2026-03-02T10:00:00Z".parse().unwrap(),
                    ))
                })
                .collect();
            Ok(Report::build(&facts, 5))
        }
    }
    let router = Dashboard::new(Arc::new(Mixed), Arc::new(Ids), Secret::from(KEY), "en")
        .clock(clock())
        .min_answers(3)
        .into_router();
    let req = |uri: &str| {
        Request::get(uri)
            .header("authorization", format!("Bearer {KEY}"))
            .body(Body::empty())
            .unwrap()
    };
    let (_, _, html) = send(&router, req("/dashboard")).await;
    assert!(html.contains("dash-ces-distribution"), "{html}");
    // NPS, CSAT and CES distributions and the trend: four charts, each its own title id.
    assert_eq!(html.matches("<svg").count(), 4, "{html}");
    assert!(html.contains(r#"aria-labelledby="dist-7-t""#), "{html}");
    // 2 of 3 found it easy (5-7).
    assert!(
        html.contains(r#"CES</dt><dd><bdi dir="ltr">67% ± "#),
        "{html}"
    );
    let (_, _, csv) = send(&router, req("/dashboard/report.csv")).await;
    assert!(
        csv.starts_with(
            "group,key,responses,nps,nps_margin,csat,csat_margin,ces,ces_margin\noverall,,5,"
        ),
        "{csv}"
    );
    assert!(csv.lines().nth(1).unwrap().contains(",66.7,"), "{csv}");
    let (_, _, json) = send(&router, req("/dashboard/report.json")).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["ces_distribution"],
        serde_json::json!([0, 1, 0, 0, 0, 1, 1])
    );
}
