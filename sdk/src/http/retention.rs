//! The dashboard's retention pages: `/dashboard/retention` (server-rendered SVG charts —
//! cohort retention curves, repeat rate by delivery lateness with its intervals — the
//! comparisons stated in words, and every figure as a table), `/dashboard/retention.json`
//! and `/dashboard/retention.csv`. Same access as the rest of the dashboard (bearer key or
//! session). Enabled with [`Dashboard::with_retention`].
//!
//! The page speaks the dashboard's language (`?lang=` or the configured one), right to left
//! where it must be, like the rest of the dashboard; its comparisons are the report's own
//! sentences in English and built from the same figures in the other languages. Wide tables
//! scroll inside their own box at phone width.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::dashboard::{Access, Dashboard, denied};
use crate::Error;
use crate::clock::Clock;
use crate::html::{escape, escape_isolated, page};
use crate::http::tracking::PageText;
use crate::model::ShopId;
use crate::retention::facts::{DIM_LATENESS, DIMENSIONS, RetentionStore};
use crate::retention::{Figure, RetentionReport, RetentionSettings};

/// Where the retention pages get their report.
#[async_trait]
pub trait RetentionSource: Send + Sync {
    /// The current retention report.
    async fn retention(&self) -> Result<RetentionReport, Error>;
}

/// A [`RetentionSource`] computing the report from a [`RetentionStore`] for one shop, as of
/// the clock's now: one row per customer and the interval histogram are read, no order.
#[derive(Clone)]
pub struct StoreRetention {
    store: Arc<dyn RetentionStore>,
    shop: Option<ShopId>,
    settings: RetentionSettings,
    clock: Arc<dyn Clock>,
}

impl StoreRetention {
    /// The report of `shop` in `store` with `settings`.
    pub fn new(
        store: Arc<dyn RetentionStore>,
        shop: Option<ShopId>,
        settings: RetentionSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            shop,
            settings,
            clock,
        }
    }
}

#[async_trait]
impl RetentionSource for StoreRetention {
    async fn retention(&self) -> Result<RetentionReport, Error> {
        let shop = self.shop.as_ref();
        let customers = self.store.retention_customers(shop).await?;
        let histogram = self.store.interval_histogram(shop).await?;
        Ok(RetentionReport::build(
            &customers,
            &histogram,
            &self.settings,
            self.clock.now(),
        ))
    }
}

const COLOURS: [&str; 6] = [
    "#0b57d0", "#b3261e", "#146c2e", "#8e4ec6", "#b06000", "#00696f",
];

/// Cohort retention curves (share with a second order within k months), 640×260; the last
/// six cohorts with at least one observed point.
pub fn curves_svg(r: &RetentionReport, title: &str) -> String {
    let (w, h, pad) = (640.0, 260.0, 40.0);
    let months = r.settings.cohort_months.max(1) as f64;
    let max = r
        .cohorts
        .iter()
        .flat_map(|c| c.curve.iter().flatten().map(|p| p.p))
        .fold(0.0f64, f64::max)
        .max(0.05);
    let x = |k: usize| pad + (w - 2.0 * pad) * k as f64 / months;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / max;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="curves-t" class="chart">
<title id="curves-t">{}</title>
<line x1="{pad}" y1="{yb}" x2="{xr}" y2="{yb}" stroke="#888"/>
<text x="4" y="{yt}" font-size="16">{:.0}%</text><text x="4" y="{yb4}" font-size="16">0%</text>
"##,
        escape(title),
        max * 100.0,
        yb = h - pad,
        xr = w - pad,
        yt = pad + 4.0,
        yb4 = h - pad + 4.0,
    );
    for k in 1..=r.settings.cohort_months {
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\">{k}</text>\n",
            x(k as usize),
            h - 12.0
        ));
    }
    let shown: Vec<_> = r
        .cohorts
        .iter()
        .filter(|c| c.curve.iter().any(Option::is_some))
        .collect();
    for (i, c) in shown.iter().rev().take(6).rev().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = std::iter::once(format!("{:.1},{:.1}", x(0), y(0.0)))
            .chain(
                c.curve
                    .iter()
                    .enumerate()
                    .filter_map(|(k, p)| p.map(|p| format!("{:.1},{:.1}", x(k + 1), y(p.p)))),
            )
            .collect();
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"3\" points=\"{}\"><title>{} (n={})</title></polyline>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" fill=\"{colour}\">{}</text>\n",
            pts.join(" "),
            escape(&c.month),
            c.customers,
            w - pad + 2.0,
            pad + 16.0 * i as f64,
            escape(&c.month)
        ));
    }
    s.push_str("</svg>");
    s
}

/// Repeat rate by delivery lateness: a bar per bucket with its 95 % interval as a whisker,
/// "too few" buckets shown as an empty bar with their count, 640×240.
pub fn lateness_svg(r: &RetentionReport, title: &str) -> String {
    lateness_svg_labelled(r, title, &|k: &str| k.to_owned(), "too few")
}

/// [`lateness_svg`] with the buckets named by `label` and "too few" as `too_few`.
pub fn lateness_svg_labelled(
    r: &RetentionReport,
    title: &str,
    label: &dyn Fn(&str) -> String,
    too_few: &str,
) -> String {
    let (w, h, pad) = (640.0, 240.0, 40.0);
    let order = ["on time", "1-2 days late", "3+ days late"];
    let cells: Vec<(&str, Option<&Figure>)> = order
        .iter()
        .map(|k| (*k, r.breakdowns.get(DIM_LATENESS).and_then(|m| m.get(*k))))
        .collect();
    let max = cells
        .iter()
        .filter_map(|(_, f)| f.and_then(Figure::measured).map(|p| p.high))
        .fold(0.05f64, f64::max);
    let bw = (w - 2.0 * pad) / cells.len() as f64;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / max;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="late-t" class="chart">
<title id="late-t">{}</title>
<line x1="{pad}" y1="{yb}" x2="{xr}" y2="{yb}" stroke="#888"/>
"##,
        escape(title),
        yb = h - pad,
        xr = w - pad,
    );
    for (i, (key, f)) in cells.iter().enumerate() {
        let x0 = pad + bw * i as f64 + bw * 0.2;
        let bar = bw * 0.6;
        let cx = x0 + bar / 2.0;
        match f.and_then(|f| f.measured()) {
            Some(p) => s.push_str(&format!(
                "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"#0b57d0\"><title>{}: {}</title></rect>\n<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"#222\" stroke-width=\"2\"/>\n<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"middle\">{:.0}%</text>\n",
                y(p.p),
                (h - pad - y(p.p)).max(0.0),
                escape(&label(key)),
                escape(&Figure::Measured(*p).describe()),
                y(p.low),
                y(p.high),
                y(p.high) - 6.0,
                p.p * 100.0
            )),
            None => {
                let n = match f {
                    Some(Figure::TooFew { n }) => *n,
                    _ => 0,
                };
                s.push_str(&format!(
                    "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"0\" fill=\"none\" stroke=\"#888\"/>\n<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"middle\">{} (n={n})</text>\n",
                    h - pad,
                    h - pad - 8.0,
                    escape(too_few)
                ));
            }
        }
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\">{}</text>\n",
            h - 12.0,
            escape(&label(key))
        ));
    }
    s.push_str("</svg>");
    s
}

/// The retention page's body in English: the headline figures, the comparisons in words,
/// the two charts and every breakdown as a table.
pub fn body(r: &RetentionReport) -> String {
    localized_body(r, &crate::l10n::Catalogs::new(""), "en")
}

/// The catalog id naming a group of `dimension`, when it has one.
fn group_id(dimension: &str, group: &str) -> Option<&'static str> {
    Some(match (dimension, group) {
        (_, "on time") => "dash-lateness-on-time",
        (_, "1-2 days late") => "dash-lateness-1-2",
        (_, "3+ days late") => "dash-lateness-3-plus",
        (_, "unknown" | "") => "dash-unknown",
        (_, "yes") => "ret-yes",
        (_, "no") => "ret-no",
        (_, "promoter") => "ret-group-promoter",
        (_, "passive") => "ret-group-passive",
        (_, "detractor") => "ret-group-detractor",
        (_, "satisfied") => "ret-group-satisfied",
        (_, "neutral") => "ret-group-neutral",
        (_, "unsatisfied") => "ret-group-unsatisfied",
        (_, "easy") => "ret-group-easy",
        (_, "hard") => "ret-group-hard",
        ("recovery", "recovered") => "ret-group-recovered",
        ("recovery", "not recovered") => "ret-group-not-recovered",
        _ => return None,
    })
}

/// The catalog id naming a dimension.
fn dimension_id(dimension: &str) -> Option<&'static str> {
    Some(match dimension {
        "lateness" => "ret-dim-lateness",
        "carrier" => "ret-dim-carrier",
        "exception" => "ret-dim-exception",
        "failed_attempt" => "ret-dim-failed-attempt",
        "nps_group" => "ret-dim-nps",
        "csat" => "ret-dim-csat",
        "ces" => "ret-dim-ces",
        "product" => "ret-dim-product",
        "recovery" => "ret-dim-recovery",
        _ => return None,
    })
}

/// The retention page's body in `locale` (see the module's documentation).
pub fn localized_body(r: &RetentionReport, text: &dyn PageText, locale: &str) -> String {
    let t = |id: &str| escape_isolated(&text.text(locale, id));
    let tw = |id: &str, args: &[(&str, String)]| escape_isolated(&text.text_with(locale, id, args));
    let days = |d: f64| ("days", format!("{d:.0}"));
    let ltr = |s: String| format!("<bdi dir=\"ltr\">{}</bdi>", escape(&s));
    let figure = |f: &Figure| match f {
        Figure::Measured(p) => format!(
            "{} <small>{}</small>",
            ltr(format!("{:.1}%", p.p * 100.0)),
            ltr(format!(
                "(95%: {:.1}–{:.1}%, n = {})",
                p.low * 100.0,
                p.high * 100.0,
                p.n
            ))
        ),
        Figure::TooFew { n } => format!(
            "{} <small>{}</small>",
            t("ret-too-few"),
            ltr(format!("(n = {n})"))
        ),
    };
    let group = |dim: &str, g: &str| group_id(dim, g).map_or_else(|| escape(g), &t);
    let window = ("days", r.settings.repeat_window_days.to_string());
    let mut b = format!(
        "<p><a href=\"/dashboard?lang={}\">{}</a></p>\n<h1>{}</h1>\n<section class=\"card\"><dl>\n",
        escape(locale),
        t("dash-title"),
        t("ret-title")
    );
    b.push_str(&format!(
        "<dt>{}</dt><dd>{}</dd>\n<dt>{}</dt><dd>{}</dd>\n<dt>{}</dt><dd>{}</dd>\n",
        t("ret-customers"),
        ltr(r.customers.to_string()),
        t("ret-repeat-customers"),
        ltr(r.repeat_customers.to_string()),
        tw("ret-repeat-rate", std::slice::from_ref(&window)),
        figure(&r.repeat_rate)
    ));
    if let Some(d) = r.median_days_to_second {
        b.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            t("ret-median"),
            tw("ret-days", &[days(d)])
        ));
    }
    match &r.churn {
        Some(c) => b.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            tw(
                "ret-churn",
                &[
                    days(c.threshold_days),
                    ("multiple", r.settings.churn_multiple.to_string()),
                    ("median", format!("{:.0}", c.median_interval_days)),
                ]
            ),
            figure(&c.rate)
        )),
        None => b.push_str(&format!("<dt>{}</dt><dd>—</dd>\n", t("ret-churn-none"))),
    }
    b.push_str(&format!(
        "</dl>\n<p>{} <a href=\"/dashboard/retention.csv\">CSV</a> · <a href=\"/dashboard/retention.json\">JSON</a></p></section>\n<section class=\"card\"><h2>{}</h2>\n<ul>\n",
        t("ret-download"),
        t("ret-costs")
    ));
    let english = locale.split(['-', '_']).next() == Some("en");
    for c in &r.comparisons {
        if english {
            b.push_str(&format!("<li>{}</li>\n", escape(&c.statement)));
            continue;
        }
        let figures = r.breakdowns.get(&c.dimension);
        let fig = |g: &str| {
            figures
                .and_then(|m| m.get(g))
                .map(&figure)
                .unwrap_or_else(|| t("ret-too-few"))
        };
        let verdict = match &c.difference {
            None => t("ret-compare-too-few"),
            Some(d) if !d.is_clear() => t("ret-compare-same"),
            Some(d) => {
                let points = ("points", format!("{:.1}", d.diff.abs() * 100.0));
                let id = if d.diff < 0.0 {
                    "ret-compare-less"
                } else {
                    "ret-compare-more"
                };
                format!(
                    "{} <small>{}</small>",
                    tw(id, &[points]),
                    ltr(format!(
                        "(95%: {:+.1} … {:+.1})",
                        d.low * 100.0,
                        d.high * 100.0
                    ))
                )
            }
        };
        b.push_str(&format!(
            "<li><strong>{}</strong>: {} {} · {} {} {} — {verdict}</li>\n",
            dimension_id(&c.dimension).map_or_else(|| escape(&c.dimension), &t),
            group(&c.dimension, &c.group),
            fig(&c.group),
            t("ret-compare-with"),
            group(&c.dimension, &c.baseline),
            fig(&c.baseline),
        ));
    }
    b.push_str("</ul>\n");
    b.push_str(&lateness_svg_labelled(
        r,
        &text.text(locale, "ret-chart-lateness"),
        &|k: &str| group_id("lateness", k).map_or_else(|| k.to_owned(), |id| text.text(locale, id)),
        &text.text(locale, "ret-too-few"),
    ));
    b.push_str(&curves_svg(r, &text.text(locale, "ret-chart-cohorts")));
    b.push_str("</section>\n");
    // Wide tables scroll in their own box (focusable, named by their heading).
    b.push_str(&format!(
        "<section class=\"card\"><h2 id=\"cohorts-h\">{}</h2>\n<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"cohorts-h\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>",
        t("ret-cohorts"),
        t("ret-first-order"),
        t("ret-customers")
    ));
    for k in 1..=r.settings.cohort_months {
        b.push_str(&format!(
            "<th scope=\"col\">{}</th>",
            tw("ret-months", &[("months", k.to_string())])
        ));
    }
    b.push_str("</tr></thead><tbody>\n");
    for c in &r.cohorts {
        b.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td>",
            ltr(c.month.clone()),
            ltr(c.customers.to_string())
        ));
        for p in &c.curve {
            match p {
                Some(p) => b.push_str(&format!("<td>{}</td>", ltr(format!("{:.1}%", p.p * 100.0)))),
                None => b.push_str("<td></td>"),
            }
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table></div></section>\n");
    for (i, d) in DIMENSIONS.iter().chain(["recovery"].iter()).enumerate() {
        let Some(m) = r.breakdowns.get(*d) else {
            continue;
        };
        b.push_str(&format!(
            "<section class=\"card\"><h2 id=\"by-{i}-h\">{}</h2>\n<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"by-{i}-h\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>\n",
            dimension_id(d).map_or_else(|| escape(d), &t),
            t("dash-group"),
            tw("ret-repeat-rate", std::slice::from_ref(&window))
        ));
        for (v, f) in m {
            b.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n",
                group(d, v),
                figure(f)
            ));
        }
        b.push_str("</tbody></table></div></section>\n");
    }
    b
}

async fn load(d: &Dashboard) -> Result<RetentionReport, Response> {
    let Some(src) = &d.retention else {
        return Err((StatusCode::NOT_FOUND, "retention is not configured").into_response());
    };
    src.retention().await.map_err(|e| {
        tracing::error!(error = %e, "retention report failed");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the retention report could not be computed; see the logs",
        )
            .into_response()
    })
}

pub(super) async fn show(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Access::Denied = d.access(&headers, &q) {
        return denied();
    }
    let locale = d.locale(&q);
    match load(&d).await {
        Ok(r) => Html(page(
            &locale,
            &d.text.text(&locale, "ret-title"),
            &localized_body(&r, d.text.as_ref(), &locale),
        ))
        .into_response(),
        Err(e) => e,
    }
}

pub(super) async fn json(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Access::Denied = d.access(&headers, &q) {
        return denied();
    }
    match load(&d).await {
        Ok(r) => axum::Json(r).into_response(),
        Err(e) => e,
    }
}

pub(super) async fn csv(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Access::Denied = d.access(&headers, &q) {
        return denied();
    }
    match load(&d).await {
        Ok(r) => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            r.to_csv(),
        )
            .into_response(),
        Err(e) => e,
    }
}
