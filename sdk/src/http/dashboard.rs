//! A small dashboard: the NPS trend and the score distribution as server-rendered SVG
//! charts, with the figures as tables too (for screen readers and for copying). Protected
//! by a key (`Authorization: Bearer <key>` or `?key=<key>`), compared in constant time.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use subtle::ConstantTimeEq as _;

use super::html::{escape, page};
use super::tracking::PageText;
use crate::Error;
use crate::report::Report;
use crate::webhook::Secret;

/// Where the dashboard gets its figures.
#[async_trait]
pub trait ReportSource: Send + Sync {
    /// The current report.
    async fn report(&self) -> Result<Report, Error>;
}

/// The dashboard's state.
#[derive(Clone)]
pub struct Dashboard {
    source: Arc<dyn ReportSource>,
    text: Arc<dyn PageText>,
    key: Secret,
    locale: String,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Dashboard {
    /// A dashboard reading `source`, open to holders of `key`, in `locale`.
    pub fn new(
        source: Arc<dyn ReportSource>,
        text: Arc<dyn PageText>,
        key: Secret,
        locale: impl Into<String>,
    ) -> Self {
        Self {
            source,
            text,
            key,
            locale: locale.into(),
        }
    }

    /// The router serving `/dashboard` (HTML; `?lang=` picks another language),
    /// `/dashboard/report.json` and `/dashboard/report.csv`.
    pub fn into_router(self) -> Router {
        Router::new()
            .route("/dashboard", get(show))
            .route("/dashboard/report.json", get(json))
            .route("/dashboard/report.csv", get(csv))
            .with_state(Arc::new(self))
    }

    fn allowed(&self, headers: &HeaderMap, q: &HashMap<String, String>) -> bool {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::as_bytes)
            .or_else(|| q.get("key").map(String::as_bytes));
        match given {
            Some(g) if !self.key.is_empty() => bool::from(g.ct_eq(self.key.expose())),
            _ => false,
        }
    }
}

fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "a valid dashboard key is required",
    )
        .into_response()
}

async fn load(d: &Dashboard) -> Result<Report, Response> {
    d.source.report().await.map_err(|e| {
        tracing::error!(error = %e, "dashboard report failed");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the report could not be computed; see the logs",
        )
            .into_response()
    })
}

async fn json(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !d.allowed(&headers, &q) {
        return denied();
    }
    match load(&d).await {
        Ok(r) => axum::Json(r).into_response(),
        Err(e) => e,
    }
}

async fn csv(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !d.allowed(&headers, &q) {
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

/// The weekly NPS as a line chart (−100 to 100), 640×240.
pub fn trend_svg(report: &Report, title: &str) -> String {
    let points: Vec<(String, f64)> = report
        .weekly
        .iter()
        .filter_map(|(w, g)| g.nps.as_ref().map(|n| (w.clone(), n.nps)))
        .collect();
    let (w, h, pad) = (640.0, 240.0, 40.0);
    let y = |v: f64| pad + (100.0 - v) / 200.0 * (h - 2.0 * pad);
    let step = if points.len() > 1 {
        (w - 2.0 * pad) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| pad + step * i as f64;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="trend-t" class="chart" style="direction:ltr">
<title id="trend-t">{}</title>
<line x1="{pad}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#888" stroke-dasharray="4 4"/>
<text x="4" y="{yt}" font-size="12">100</text><text x="4" y="{y0t}" font-size="12">0</text><text x="4" y="{yb}" font-size="12">-100</text>
"##,
        escape(title),
        y0 = y(0.0),
        x1 = w - pad,
        yt = y(100.0) + 4.0,
        y0t = y(0.0) + 4.0,
        yb = y(-100.0) + 4.0,
    );
    if points.len() > 1 {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#0b57d0\" stroke-width=\"3\" points=\"{}\"/>\n",
            path.join(" ")
        ));
    }
    for (i, (week, v)) in points.iter().enumerate() {
        s.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#0b57d0\"><title>{}: {v:.0}</title></circle>\n<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
            x(i),
            y(*v),
            escape(week),
            x(i),
            h - 8.0,
            escape(week.get(5..).unwrap_or(week))
        ));
    }
    s.push_str("</svg>");
    s
}

/// A bar chart of counts per score, 640×220; detractors red, passives grey, promoters green
/// for NPS.
pub fn distribution_svg(counts: &[u64], first_score: u8, nps: bool, title: &str) -> String {
    let (w, h, pad) = (640.0, 220.0, 30.0);
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bw = (w - 2.0 * pad) / counts.len().max(1) as f64;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="dist-t" class="chart" style="direction:ltr">
<title id="dist-t">{}</title>
"##,
        escape(title)
    );
    for (i, c) in counts.iter().enumerate() {
        let score = u32::from(first_score) + i as u32;
        let bh = (*c as f64 / max) * (h - 2.0 * pad);
        let color = if !nps {
            "#0b57d0"
        } else if score <= 6 {
            "#c5221f"
        } else if score <= 8 {
            "#80868b"
        } else {
            "#188038"
        };
        let bx = pad + bw * i as f64;
        s.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{score}: {c}</title></rect>\n<text x=\"{:.1}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{score}</text>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{c}</text>\n",
            bx + 2.0,
            h - pad - bh,
            bw - 4.0,
            bx + bw / 2.0,
            h - 10.0,
            bx + bw / 2.0,
            h - pad - bh - 4.0
        ));
    }
    s.push_str("</svg>");
    s
}

async fn show(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !d.allowed(&headers, &q) {
        return denied();
    }
    let r = match load(&d).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    // `?lang=ar` shows the page in another language than the configured one.
    let lang = q
        .get("lang")
        .filter(|l| {
            !l.is_empty()
                && l.len() <= 35
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .cloned()
        .unwrap_or_else(|| d.locale.clone());
    let l = &lang;
    let t = |id: &str| escape(&d.text.text(l, id));
    let mut b = format!(
        "<h1>{}</h1>\n<section class=\"card\"><dl>\n",
        t("dash-title")
    );
    if let Some(n) = &r.overall.nps {
        b.push_str(&format!(
            "<dt>NPS</dt><dd><bdi dir=\"ltr\">{:.0} ± {:.0}</bdi> <small>(n = {})</small></dd>\n",
            n.nps, n.margin_of_error, n.responses
        ));
    }
    if let Some(c) = &r.overall.csat {
        b.push_str(&format!(
            "<dt>CSAT</dt><dd><bdi dir=\"ltr\">{:.0}% ± {:.0}</bdi> <small>(n = {})</small></dd>\n",
            c.csat, c.margin_of_error, c.responses
        ));
    }
    b.push_str(&format!(
        "<dt>{}</dt><dd><bdi dir=\"ltr\">{:.0}%</bdi> <small>({} / {})</small></dd>\n</dl></section>\n",
        t("dash-response-rate"),
        r.response_rate,
        r.responses,
        r.invitations
    ));
    b.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>\n{}\n",
        t("dash-trend"),
        trend_svg(&r, &d.text.text(l, "dash-trend"))
    ));
    b.push_str(&format!("<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">NPS</th><th scope=\"col\">{}</th></tr></thead><tbody>\n", t("dash-week"), t("dash-responses")));
    for (w, g) in &r.weekly {
        if let Some(n) = &g.nps {
            b.push_str(&format!(
                "<tr><td><bdi dir=\"ltr\">{}</bdi></td><td><bdi dir=\"ltr\">{:.0}</bdi></td><td><bdi dir=\"ltr\">{}</bdi></td></tr>\n",
                escape(w),
                n.nps,
                n.responses
            ));
        }
    }
    b.push_str("</tbody></table></section>\n");
    b.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>\n{}\n</section>\n",
        t("dash-distribution"),
        distribution_svg(
            &r.nps_distribution,
            0,
            true,
            &d.text.text(l, "dash-distribution")
        )
    ));
    for (dim, m) in &r.breakdowns {
        b.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2><table><tbody>\n",
            escape(&d.text.text(l, &format!("dash-by-{dim}")))
        ));
        for (k, g) in m {
            let nps = g
                .nps
                .as_ref()
                .map(|n| format!("{:.0} (n = {})", n.nps, n.responses))
                .unwrap_or_default();
            b.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td><bdi dir=\"ltr\">{nps}</bdi></td></tr>\n",
                escape(k)
            ));
        }
        b.push_str("</tbody></table></section>\n");
    }
    let title = d.text.text(l, "dash-title");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page(l, &title, &b),
    )
        .into_response()
}
