//! The dashboard's retention pages: `/dashboard/retention` (server-rendered SVG charts —
//! cohort retention curves, repeat rate by delivery lateness with its intervals — the
//! comparisons stated in words, and every figure as a table), `/dashboard/retention.json`
//! and `/dashboard/retention.csv`. Same access as the rest of the dashboard (bearer key or
//! session). Enabled with [`Dashboard::with_retention`].
//!
//! The page is for the shop's analyst and is in English; the customer-facing texts are all
//! localized.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::dashboard::{Access, Dashboard, denied};
use crate::Error;
use crate::clock::Clock;
use crate::html::{escape, page};
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
/// the clock's now: the interval histogram is read and the customers streamed through a
/// [`ReportFold`](crate::retention::ReportFold), no order.
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
        RetentionReport::from_store(
            &*self.store,
            self.shop.as_ref(),
            &self.settings,
            self.clock.now(),
        )
        .await
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
    for (i, (label, f)) in cells.iter().enumerate() {
        let x0 = pad + bw * i as f64 + bw * 0.2;
        let bar = bw * 0.6;
        let cx = x0 + bar / 2.0;
        match f.and_then(|f| f.measured()) {
            Some(p) => s.push_str(&format!(
                "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"#0b57d0\"><title>{}: {}</title></rect>\n<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"#222\" stroke-width=\"2\"/>\n<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"middle\">{:.0}%</text>\n",
                y(p.p),
                (h - pad - y(p.p)).max(0.0),
                escape(label),
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
                    "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"0\" fill=\"none\" stroke=\"#888\"/>\n<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"middle\">too few (n={n})</text>\n",
                    h - pad,
                    h - pad - 8.0
                ));
            }
        }
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\">{}</text>\n",
            h - 12.0,
            escape(label)
        ));
    }
    s.push_str("</svg>");
    s
}

/// The retention page's body: the headline figures, the comparisons in words, the two
/// charts and every breakdown as a table.
pub fn body(r: &RetentionReport) -> String {
    let mut b = String::from("<h1>Retention</h1>\n<ul>\n");
    b.push_str(&format!(
        "<li>Customers: {} ({} ordered twice or more)</li>\n",
        r.customers, r.repeat_customers
    ));
    b.push_str(&format!(
        "<li>Re-ordered within {} days: {}</li>\n",
        r.settings.repeat_window_days,
        escape(&r.repeat_rate.describe())
    ));
    if let Some(d) = r.median_days_to_second {
        b.push_str(&format!(
            "<li>Median time to a second order: {d:.0} days</li>\n"
        ));
    }
    match &r.churn {
        Some(c) => b.push_str(&format!(
            "<li>Churned (no order for {:.0} days, {}× the median interval of {:.0} days): {}</li>\n",
            c.threshold_days,
            r.settings.churn_multiple,
            c.median_interval_days,
            escape(&c.rate.describe())
        )),
        None => b.push_str("<li>Churn: no customer has ordered twice yet</li>\n"),
    }
    b.push_str("</ul>\n<h2>What the experience costs</h2>\n<ul>\n");
    for c in &r.comparisons {
        b.push_str(&format!("<li>{}</li>\n", escape(&c.statement)));
    }
    b.push_str("</ul>\n");
    b.push_str(&lateness_svg(
        r,
        "Repeat rate by lateness of the first delivery (95% intervals)",
    ));
    b.push_str(&curves_svg(
        r,
        "Share with a second order, by months since the first, per first-order month",
    ));
    b.push_str("<h2>Cohorts</h2>\n<table><tr><th>First order</th><th>Customers</th>");
    for k in 1..=r.settings.cohort_months {
        b.push_str(&format!("<th>{k} mo</th>"));
    }
    b.push_str("</tr>\n");
    for c in &r.cohorts {
        b.push_str(&format!(
            "<tr><td>{}</td><td>{}</td>",
            escape(&c.month),
            c.customers
        ));
        for p in &c.curve {
            match p {
                Some(p) => b.push_str(&format!("<td>{:.1}%</td>", p.p * 100.0)),
                None => b.push_str("<td></td>"),
            }
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</table>\n");
    for d in DIMENSIONS.iter().chain(["recovery"].iter()) {
        let Some(m) = r.breakdowns.get(*d) else {
            continue;
        };
        b.push_str(&format!(
            "<h2>Repeat rate by {}</h2>\n<table><tr><th>Value</th><th>Repeat within {} days</th></tr>\n",
            escape(d),
            r.settings.repeat_window_days
        ));
        for (v, f) in m {
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td></tr>\n",
                escape(v),
                escape(&f.describe())
            ));
        }
        b.push_str("</table>\n");
    }
    b.push_str("<p><a href=\"/dashboard/retention.csv\">CSV</a> · <a href=\"/dashboard/retention.json\">JSON</a></p>\n");
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
    match load(&d).await {
        Ok(r) => Html(page("en", "Retention", &body(&r))).into_response(),
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
