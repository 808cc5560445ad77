//! The pages in a real headless browser (Chromium from Debian's packages, installed by
//! `.ci/run`): the tracking page, the survey page and the dashboard, in English and Arabic.
//! Checks the DOM Chromium built, that Chromium reported no Content Security Policy
//! violation (its console, logged to stderr), and writes screenshots to `target/artifacts/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::flows::feedback::SurveyClaims;
use aftercare::flows::tracking::TrackingClaims;
use aftercare::http::dashboard::{Dashboard, ReportSource};
use aftercare::http::survey::SurveyPage;
use aftercare::http::tracking::TrackingPage;
use aftercare::l10n::Catalogs;
use aftercare::model::{ChannelKind, CustomerId, Invitation, OrderId, SurveyKind, SurveyResponse};
use aftercare::platform::OrderSource;
use aftercare::report::{Fact, Report};
use aftercare::store::SurveyStore;
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_sandbox::{CarrierScript, Sandbox};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;

fn chromium() -> PathBuf {
    let candidates = [
        std::env::var("AFTERCARE_CHROMIUM").unwrap_or_default(),
        "/usr/bin/chromium".into(),
        "/usr/bin/chromium-browser".into(),
    ];
    candidates
        .iter()
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("Chromium is needed for the page tests: `apt-get install chromium` (or set AFTERCARE_CHROMIUM)")
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        // Console messages, CSP violations among them, on stderr.
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The DOM after Chromium parsed and laid out the page, and the Content Security Policy
/// violations Chromium reported on its console.
fn load(url: &str) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let out = headless(profile.path())
        .args(["--virtual-time-budget=2000", "--dump-dom", url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    (
        String::from_utf8(out.stdout).unwrap(),
        csp_violations(&stderr),
    )
}

fn csp_violations(console: &str) -> Vec<String> {
    console
        .lines()
        .filter(|l| l.contains("Content Security Policy"))
        .map(str::to_owned)
        .collect()
}

/// The DOM of a page that must load without a CSP violation.
fn dump_dom(url: &str) -> String {
    let (dom, violations) = load(url);
    assert!(violations.is_empty(), "{url}: {violations:#?}");
    dom
}

/// Screenshots at phone (390 px) and desktop (1280 px) width; returns the phone one's path.
fn screenshot(url: &str, name: &str) -> PathBuf {
    let stem = name.trim_end_matches(".png");
    screenshot_at(url, &format!("{stem}-1280.png"), 1280);
    screenshot_at(url, &format!("{stem}-390.png"), 390)
}

fn screenshot_at(url: &str, name: &str, width: u32) -> PathBuf {
    let profile = tempfile::tempdir().unwrap();
    let path = artifacts().join(name);
    let _ = std::fs::remove_file(&path);
    let out = headless(profile.path())
        .arg(format!("--window-size={width},1400"))
        .arg("--virtual-time-budget=2000")
        .arg(format!("--screenshot={}", path.display()))
        .arg(url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    let violations = csp_violations(&stderr);
    assert!(violations.is_empty(), "{url}: {violations:#?}");
    let png = std::fs::read(&path).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "a real screenshot at {}",
        path.display()
    );
    path
}

struct Fixed;
#[async_trait]
impl ReportSource for Fixed {
    async fn report(&self) -> Result<Report, aftercare::Error> {
        let facts: Vec<Fact> = (0..24u8)
            .map(|i| {
                let mut f = Fact::new(SurveyResponse::new(
                    format!("r{i}"),
                    SurveyKind::Nps,
                    OrderId::new(format!("{i}")),
                    (i * 7 + 3) % 11,
                    "web",
                    format!("2026-03-{:02}T10:00:00Z", 2 + i % 20)
                        .parse()
                        .unwrap(),
                ));
                f.dims.insert(
                    "carrier".into(),
                    if i % 3 == 0 {
                        "Aramex".into()
                    } else {
                        "SMSA Express".into()
                    },
                );
                f
            })
            .collect();
        Ok(Report::build(&facts, 60))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_in_chromium_in_english_and_arabic() {
    let sb = Sandbox::quiet(
        Secret::from("shpss_browser"),
        "2026-03-02T06:00:00Z".parse().unwrap(),
    );
    let clock: Arc<dyn Clock> = sb.clock.clone();
    // In the shop's branding, as the README's screenshots show the pages.
    let text = Arc::new(
        Catalogs::new("Sandbox Coffee Co.").with_branding(
            aftercare::branding::Branding::new("Sandbox Coffee Co.")
                .accent(aftercare::branding::Accent::new("#7a1f5c").unwrap())
                .support_url("https://example.com/support")
                .shop_url("https://example.com"),
        ),
    );
    let links = TokenSigner::new(Secret::from("links"), "tracking");
    let surveys = TokenSigner::new(Secret::from("links"), "survey");
    let store = SqliteStore::open_temporary().await.unwrap();

    let mut orders = Vec::new();
    for locale in ["en-US", "ar-SA", "tr-TR", "th-TH"] {
        let shipped = sb.ship(locale).unwrap();
        sb.scenario(shipped.fulfillment, CarrierScript::happy_path())
            .run_to_end()
            .unwrap();
        orders.push((locale, shipped));
    }
    let app = TrackingPage::new(sb.shop.clone(), links.clone(), text.clone(), clock.clone())
        .content(aftercare_examples::tracking::demo_content())
        .support_url("https://example.com/support")
        .into_router()
        .merge(
            SurveyPage::new(
                Arc::new(store.clone()),
                surveys.clone(),
                text.clone(),
                clock.clone(),
            )
            .into_router(),
        )
        .merge(
            // A browser signs in with a form; here the test server adds the key as a bearer
            // token, as a script would send it.
            Dashboard::new(Arc::new(Fixed), text.clone(), Secret::from("k"), "ar")
                .with_retention(Arc::new(aftercare::http::retention::StoreRetention::new(
                    retention_history().await,
                    None,
                    aftercare::retention::RetentionSettings::default(),
                    clock.clone(),
                )))
                .into_router()
                .layer(axum::middleware::map_request(
                    |mut req: axum::extract::Request| async move {
                        req.headers_mut()
                            .insert("authorization", "Bearer k".parse().unwrap());
                        req
                    },
                )),
        )
        .merge(
            // The control: a page under the same headers with a style attribute, which the
            // policy forbids, so the violation check is known to see violations.
            aftercare::http::headers::page_headers(axum::Router::new().route(
                "/csp-control",
                axum::routing::get(|| async {
                    axum::response::Html(
                        "<!doctype html><html><body><p style=\"color:red\">x</p></body></html>",
                    )
                }),
            )),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        app,
        aftercare::http::ServeOptions::default(),
    ));

    let control = format!("{base}/csp-control");
    let (_, violations) = tokio::task::spawn_blocking(move || load(&control))
        .await
        .unwrap();
    assert_eq!(
        violations.len(),
        1,
        "the control's style attribute is refused"
    );

    for (locale, shipped) in &orders {
        let id = OrderId::new(shipped.order.to_string());
        let order = sb.shop.order(&id).await.unwrap().unwrap();
        let shipment = sb.shop.shipments(&id).await.unwrap().remove(0);
        let token = links.sign(
            &TrackingClaims {
                o: order.id.0.clone(),
                s: shipment.id.0.clone(),
            },
            clock.now() + chrono::Duration::days(30),
        );
        let url = format!("{base}/t/{token}");
        let dom = tokio::task::spawn_blocking({
            let url = url.clone();
            move || dump_dom(&url)
        })
        .await
        .unwrap();
        let rtl = locale.starts_with("ar");
        assert!(
            dom.contains(&format!(r#"dir="{}""#, if rtl { "rtl" } else { "ltr" })),
            "{locale}: direction on <html>"
        );
        assert!(
            dom.contains(r#"<ol class="timeline">"#),
            "{locale}: the timeline is there"
        );
        assert!(
            dom.matches("<li").count() >= 5,
            "{locale}: five milestones and items"
        );
        assert!(
            dom.contains(&shipment.tracking_numbers[0]),
            "{locale}: the tracking number"
        );
        let delivered = match *locale {
            "ar-SA" => "تم التوصيل",
            "tr-TR" => "Teslim edildi",
            "th-TH" => "จัดส่งสำเร็จ",
            _ => "Delivered",
        };
        assert!(
            dom.contains(delivered),
            "{locale}: the current status, localized"
        );
        assert!(
            dom.contains(r#"aria-current="step""#),
            "{locale}: the current step is marked for screen readers"
        );
        if rtl {
            assert!(
                dom.contains(r#"<bdi dir="ltr">(+03)</bdi>"#),
                "{locale}: the zone offset isolated left to right, read (+03) not (03+)"
            );
        }
        let shot = tokio::task::spawn_blocking({
            let name = format!("tracking-{locale}.png");
            move || screenshot(&url, &name)
        })
        .await
        .unwrap();
        eprintln!("screenshot: {}", shot.display());
    }

    // The survey page, one-click preselected, in both directions.
    for (i, (locale, kind)) in [
        ("en", SurveyKind::Nps),
        ("ar", SurveyKind::Nps),
        ("tr", SurveyKind::Nps),
        ("th", SurveyKind::Nps),
        ("en", SurveyKind::Csat),
        ("ar", SurveyKind::Ces),
    ]
    .iter()
    .enumerate()
    {
        let inv = {
            let mut invitation = Invitation::new(
                format!("inv-{i}"),
                *kind,
                OrderId::new("1001"),
                ChannelKind::Email,
                *locale,
                clock.now(),
                clock.now() + chrono::Duration::days(14),
            );
            invitation.customer_id = Some(CustomerId::new("c"));
            invitation
        };
        store.save_invitation(&inv).await.unwrap();
        let token = surveys.sign(&SurveyClaims { i: inv.id.clone() }, inv.closes_at);
        let url = format!("{base}/s/{token}?score=8");
        let dom = tokio::task::spawn_blocking({
            let url = url.clone();
            move || dump_dom(&url)
        })
        .await
        .unwrap();
        assert!(dom.contains(if *locale == "ar" {
            r#"dir="rtl""#
        } else {
            r#"dir="ltr""#
        }));
        // Each kind its own scale, question (with the shop's name) and end labels.
        let (points, low, high) = match (kind, *locale) {
            (SurveyKind::Nps, "en") => (11, "Not at all likely", "Extremely likely"),
            (SurveyKind::Csat, _) => (5, "Very dissatisfied", "Very satisfied"),
            (SurveyKind::Ces, _) => (7, "صعب جدًا", "سهل جدًا"),
            _ => (11, "", ""),
        };
        assert_eq!(
            dom.matches(r#"type="radio""#).count(),
            points,
            "{locale} {kind:?}"
        );
        assert!(
            dom.contains(low) && dom.contains(high),
            "{locale} {kind:?}: {dom:.3000}"
        );
        if *kind != SurveyKind::Nps {
            assert!(
                !dom.contains("Not at all likely") && !dom.contains("غير محتمل إطلاقًا"),
                "{kind:?} does not show the NPS labels"
            );
        }
        assert!(
            dom.contains("Sandbox Coffee Co."),
            "the shop's name in the question"
        );
        if points >= 8 {
            assert!(
                dom.contains(r#"value="8" required="" checked="""#),
                "one-click score preselected: {dom:.2000}"
            );
        }
        if *locale == "ar" && *kind == SurveyKind::Nps {
            assert!(dom.contains("٨"), "Arabic-Indic digits on the scale");
            assert!(dom.contains("ما مدى احتمال أن ترشّح"));
        }
        tokio::task::spawn_blocking({
            let name = format!("survey-{locale}-{}.png", inv.kind.as_str());
            move || screenshot(&url, &name)
        })
        .await
        .unwrap();
    }

    // The dashboard, with its SVG charts, in Arabic (its configured language), English,
    // Turkish and Thai.
    for (lang, dir) in [("ar", "rtl"), ("en", "ltr"), ("tr", "ltr"), ("th", "ltr")] {
        let url = format!("{base}/dashboard?lang={lang}");
        let dom = tokio::task::spawn_blocking({
            let url = url.clone();
            move || dump_dom(&url)
        })
        .await
        .unwrap();
        assert!(dom.contains(&format!(r#"dir="{dir}""#)), "{lang}");
        assert_eq!(
            dom.matches("<svg").count(),
            2,
            "trend and distribution charts"
        );
        assert!(dom.contains("<polyline"));
        let title = match lang {
            "ar" => "رضا العملاء",
            "tr" => "Müşteri memnuniyeti",
            "th" => "ความพึงพอใจของลูกค้า",
            _ => "Customer satisfaction",
        };
        assert!(dom.contains(title), "{lang}");
        tokio::task::spawn_blocking(move || screenshot(&url, &format!("dashboard-{lang}.png")))
            .await
            .unwrap();
        // Its retention page, in the same language and direction.
        let url = format!("{base}/dashboard/retention?lang={lang}");
        let dom = tokio::task::spawn_blocking({
            let url = url.clone();
            move || dump_dom(&url)
        })
        .await
        .unwrap();
        assert!(dom.contains(&format!(r#"dir="{dir}""#)), "{lang}");
        assert_eq!(dom.matches("<svg").count(), 2, "lateness and cohort charts");
        tokio::task::spawn_blocking(move || screenshot(&url, &format!("retention-{lang}.png")))
            .await
            .unwrap();
    }
}

/// Answers of every kind, so the dashboard shows all its charts at once.
struct AllKinds;
#[async_trait]
impl ReportSource for AllKinds {
    async fn report(&self) -> Result<Report, aftercare::Error> {
        let facts: Vec<Fact> = (0..30u8)
            .map(|i| {
                let (kind, score) = match i % 3 {
                    0 => (SurveyKind::Nps, (i * 7 + 3) % 11),
                    1 => (SurveyKind::Csat, 1 + i % 5),
                    _ => (SurveyKind::Ces, 1 + i % 7),
                };
                let mut f = Fact::new(SurveyResponse::new(
                    format!("k{i}"),
                    kind,
                    OrderId::new(format!("{i}")),
                    score,
                    "web",
                    format!("2026-03-{:02}T10:00:00Z", 2 + i % 20)
                        .parse()
                        .unwrap(),
                ));
                f.dims.insert("lateness".into(), "on time".into());
                f
            })
            .collect();
        Ok(Report::build(&facts, 40))
    }
}

/// The axe-core audit (WCAG 2.x A and AA, and axe's best practices) of `urls` in Chromium
/// at `width` px, through the DevTools protocol (`tests/axe_audit.py`): the pages' policy
/// still allows no script. Returns, per page, the violations and the layout problems
/// (sideways overflow, content wider than its box, a name in a heading broken across
/// lines).
fn axe(urls: &[String], width: u32) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("axe_audit.py"))
        .arg(chromium())
        .arg(root.join("vendor/axe-core/axe.min.js"))
        .arg(width.to_string())
        .args(urls)
        .output()
        .expect("python3 runs the audit (a package `cargo xtask test` installs)");
    assert!(
        out.status.success(),
        "the audit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The sandbox's orders with a picture on every other line, as WooCommerce, Nuvemshop and
/// Shopify give them (the pictures do not load here: no network; their box is fixed).
struct Pictured(Arc<dyn OrderSource>);

#[async_trait]
impl OrderSource for Pictured {
    async fn order(
        &self,
        id: &OrderId,
    ) -> Result<Option<aftercare::model::Order>, aftercare::Error> {
        Ok(self.0.order(id).await?.map(|mut o| {
            for (i, l) in o.line_items.iter_mut().enumerate() {
                if i % 2 == 0 {
                    l.image = aftercare::model::ImageUrl::from_payload(Some(&format!(
                        "https://cdn.example.com/products/{i}.jpg"
                    )));
                }
            }
            o
        }))
    }
    fn updated_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> futures::stream::BoxStream<'_, Result<aftercare::model::Order, aftercare::Error>> {
        self.0.updated_since(since)
    }
    async fn shipments(
        &self,
        order: &OrderId,
    ) -> Result<Vec<aftercare::model::Shipment>, aftercare::Error> {
        self.0.shipments(order).await
    }
}

/// A year of first orders, half of them delivered late, some customers ordering again:
/// every chart, cohort and breakdown of the retention page has figures.
async fn retention_history() -> Arc<SqliteStore> {
    use aftercare::retention::{OrderFact, RetentionStore};
    let s = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let day = |d: i64| {
        "2025-03-01T10:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            + chrono::Duration::days(d)
    };
    for i in 0..240i64 {
        let first = OrderId::new(format!("r{i}"));
        s.record_order(&OrderFact::new(
            None,
            first.clone(),
            format!("rc{i}"),
            day(i),
        ))
        .await
        .unwrap();
        let bucket = ["on time", "1-2 days late", "3+ days late"][(i % 3) as usize];
        s.set_experience(
            None,
            &first,
            &std::collections::BTreeMap::from([("lateness".to_owned(), bucket.to_owned())]),
        )
        .await
        .unwrap();
        if i % 3 == 0 || i % 5 == 0 {
            s.record_order(&OrderFact::new(
                None,
                OrderId::new(format!("r{i}-2")),
                format!("rc{i}"),
                day(i + 20 + i % 50),
            ))
            .await
            .unwrap();
        }
    }
    s
}

/// Every page a customer or a merchant sees passes the accessibility audit in every
/// locale, at phone (390 px) and desktop (1280 px) width, and lays out cleanly there:
/// nothing sticks out sideways, no content is wider than its box, no name in a heading is
/// broken across lines. Tracking (with product pictures), survey of each kind, thank-you,
/// closed and invalid links, dashboard; in the shop's branding (its accent colour).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_the_accessibility_audit_in_every_locale() {
    use aftercare::branding::{Accent, Branding};
    let sb = Sandbox::quiet(
        Secret::from("shpss_browser"),
        "2026-03-02T06:00:00Z".parse().unwrap(),
    );
    let clock: Arc<dyn Clock> = sb.clock.clone();
    let text = Arc::new(
        Catalogs::new("Sandbox Coffee Co.").with_branding(
            Branding::new("Sandbox Coffee Co.")
                .accent(Accent::new("#7a1f5c").unwrap())
                .support_url("https://example.com/support")
                .shop_url("https://example.com"),
        ),
    );
    let links = TokenSigner::new(Secret::from("links"), "tracking");
    let surveys = TokenSigner::new(Secret::from("links"), "survey");
    let store = SqliteStore::open_temporary().await.unwrap();
    let app = TrackingPage::new(
        Arc::new(Pictured(sb.shop.clone())),
        links.clone(),
        text.clone(),
        clock.clone(),
    )
    .content(aftercare_examples::tracking::demo_content())
    .into_router()
    .merge(
        SurveyPage::new(
            Arc::new(store.clone()),
            surveys.clone(),
            text.clone(),
            clock.clone(),
        )
        .into_router(),
    )
    .merge(
        Dashboard::new(Arc::new(AllKinds), text.clone(), Secret::from("k"), "en")
            .with_retention(Arc::new(aftercare::http::retention::StoreRetention::new(
                retention_history().await,
                None,
                aftercare::retention::RetentionSettings::default(),
                clock.clone(),
            )))
            .into_router()
            .layer(axum::middleware::map_request(
                |mut req: axum::extract::Request| async move {
                    req.headers_mut()
                        .insert("authorization", "Bearer k".parse().unwrap());
                    req
                },
            )),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        app,
        aftercare::http::ServeOptions::default(),
    ));

    let mut urls = Vec::new();
    for (n, locale) in ["en-US", "ar-SA", "tr-TR", "th-TH", "pt-BR", "es-MX"]
        .into_iter()
        .enumerate()
    {
        let shipped = sb.ship(locale).unwrap();
        sb.scenario(shipped.fulfillment, CarrierScript::happy_path())
            .run_to_end()
            .unwrap();
        let id = OrderId::new(shipped.order.to_string());
        let shipment = sb.shop.shipments(&id).await.unwrap().remove(0);
        let token = links.sign(
            &TrackingClaims {
                o: id.0.clone(),
                s: shipment.id.0.clone(),
            },
            clock.now() + chrono::Duration::days(30),
        );
        urls.push(format!("{base}/t/{token}"));
        let lang = locale.split('-').next().unwrap();
        let lang = if lang == "pt" { "pt-BR" } else { lang };
        for kind in [SurveyKind::Nps, SurveyKind::Csat, SurveyKind::Ces] {
            let inv = {
                let mut invitation = Invitation::new(
                    format!("a11y-{n}-{}", kind.as_str()),
                    kind,
                    id.clone(),
                    ChannelKind::Email,
                    lang,
                    clock.now(),
                    clock.now() + chrono::Duration::days(14),
                );
                invitation.customer_id = Some(CustomerId::new("c"));
                invitation
            };
            store.save_invitation(&inv).await.unwrap();
            let token = surveys.sign(&SurveyClaims { i: inv.id.clone() }, inv.closes_at);
            urls.push(format!("{base}/s/{token}?score=4"));
        }
        // Thank-you: an answered invitation.
        let inv = {
            let mut invitation = Invitation::new(
                format!("a11y-{n}-answered"),
                SurveyKind::Nps,
                id.clone(),
                ChannelKind::Email,
                lang,
                clock.now(),
                clock.now() + chrono::Duration::days(14),
            );
            invitation.customer_id = Some(CustomerId::new("c"));
            invitation
        };
        store.save_invitation(&inv).await.unwrap();
        store
            .record_response(&SurveyResponse::new(
                inv.id.clone(),
                SurveyKind::Nps,
                id.clone(),
                10,
                "web",
                clock.now(),
            ))
            .await
            .unwrap();
        let token = surveys.sign(&SurveyClaims { i: inv.id.clone() }, inv.closes_at);
        urls.push(format!("{base}/s/{token}"));
        // Closed: the invitation's window is over.
        let inv = {
            let mut closed = inv;
            closed.id = format!("a11y-{n}-closed");
            closed.closes_at = clock.now() - chrono::Duration::days(1);
            closed
        };
        store.save_invitation(&inv).await.unwrap();
        let token = surveys.sign(
            &SurveyClaims { i: inv.id.clone() },
            clock.now() + chrono::Duration::days(1),
        );
        urls.push(format!("{base}/s/{token}"));
        urls.push(format!("{base}/dashboard?lang={lang}"));
        urls.push(format!("{base}/dashboard/retention?lang={lang}"));
    }
    // An invalid link (the browser's language decides; Chromium's is English).
    urls.push(format!("{base}/t/not-a-token"));
    let pages = urls.len();
    let mut failing = Vec::new();
    for width in [390, 1280] {
        let found = tokio::task::spawn_blocking({
            let urls = urls.clone();
            move || axe(&urls, width)
        })
        .await
        .unwrap();
        let found = found.as_object().unwrap();
        assert_eq!(found.len(), pages, "every page audited at {width} px");
        for (url, v) in found {
            for what in ["violations", "layout"] {
                if !v[what].as_array().unwrap().is_empty() {
                    failing.push(format!(
                        "{url} at {width} px, {what}:\n{}",
                        serde_json::to_string_pretty(&v[what]).unwrap()
                    ));
                }
            }
        }
    }
    assert!(failing.is_empty(), "{}", failing.join("\n\n"));
}
