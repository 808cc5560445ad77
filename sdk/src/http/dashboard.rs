//! A small dashboard: the NPS trend and the score distribution as server-rendered SVG
//! charts, with the figures as tables too (for screen readers and for copying).
//!
//! **Access.** The dashboard is open to holders of its key, by either of:
//! - `Authorization: Bearer <key>` (scripts, the JSON and CSV exports);
//! - signing in: `/dashboard` without credentials answers `401` with a form that POSTs the
//!   key to `/dashboard/login`, which sets a session cookie (`HttpOnly; Secure;
//!   SameSite=Strict; Path=/dashboard`, 12 hours by default) and sends the browser back to
//!   `/dashboard`. The cookie holds a signed, expiring token (a [`TokenSigner`] token with a
//!   MAC key derived from the dashboard key), never the key: changing the key ends every
//!   session. `POST /dashboard/logout` removes the cookie. The cookie is `Secure`: browsers
//!   keep it only over HTTPS (and on `http://localhost`), so serve the dashboard behind TLS.
//!
//! Keys are compared in constant time, as SHA-256 digests so that not even the length of
//! the key shows in the timing. The key is never logged. The old `?key=` query form is no
//! longer accepted (URLs end up in proxy logs, browser history and `Referer` headers): such
//! a request is refused like any other without credentials, and a warning without the
//! key's value is logged.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::html::{escape, page};
use super::tracking::PageText;
use crate::Error;
use crate::clock::{Clock, SystemClock};
use crate::report::Report;
use crate::token::TokenSigner;
use crate::webhook::Secret;

/// Where the dashboard gets its figures.
#[async_trait]
pub trait ReportSource: Send + Sync {
    /// The current report.
    async fn report(&self) -> Result<Report, Error>;
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "aftercare_dashboard";

/// The dashboard's state.
#[derive(Clone)]
pub struct Dashboard {
    source: Arc<dyn ReportSource>,
    pub(super) text: Arc<dyn PageText>,
    key_digest: [u8; 32],
    open: bool,
    sessions: TokenSigner,
    session_lifetime: chrono::Duration,
    clock: Arc<dyn Clock>,
    locale: String,
    min_answers: u64,
    pub(super) retention: Option<Arc<dyn super::retention::RetentionSource>>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("key", &"***")
            .field("session_lifetime", &self.session_lifetime)
            .finish_non_exhaustive()
    }
}

/// Answers a group needs before the dashboard shows its score.
pub const DEFAULT_MIN_ANSWERS: u64 = 10;

/// The catalog id of a breakdown value the dashboard translates (lateness buckets,
/// unknown), or `None` for a value shown as given (a carrier or product name).
fn group_label_id(value: &str) -> Option<&'static str> {
    Some(match value {
        "on time" => "dash-lateness-on-time",
        "1-2 days late" => "dash-lateness-1-2",
        "3+ days late" => "dash-lateness-3-plus",
        "unknown" | "" => "dash-unknown",
        _ => return None,
    })
}

/// A session token's claims: nothing but the token's own expiry and nonce.
#[derive(Serialize, Deserialize)]
struct Session {}

impl Dashboard {
    /// A dashboard reading `source`, open to holders of `key`, in `locale`. An empty key
    /// opens it to no one.
    pub fn new(
        source: Arc<dyn ReportSource>,
        text: Arc<dyn PageText>,
        key: Secret,
        locale: impl Into<String>,
    ) -> Self {
        // The session MAC key is derived from the dashboard key, so the key itself is used
        // for nothing but the comparison, and a new key ends every session.
        let session_key = Hmac::<Sha256>::new_from_slice(key.expose())
            .map(|mut m| {
                m.update(b"aftercare-dashboard-session:v1");
                m.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default();
        Self {
            source,
            text,
            key_digest: Sha256::digest(key.expose()).into(),
            open: !key.is_empty(),
            sessions: TokenSigner::new(Secret::from_bytes(session_key), "dashboard-session"),
            session_lifetime: chrono::Duration::hours(12),
            clock: Arc::new(SystemClock),
            locale: locale.into(),
            min_answers: DEFAULT_MIN_ANSWERS,
            retention: None,
        }
    }

    /// Adds the retention pages (`/dashboard/retention`, `.json`, `.csv`; see
    /// [`retention`](super::retention)) reading `source`.
    pub fn with_retention(mut self, source: Arc<dyn super::retention::RetentionSource>) -> Self {
        self.retention = Some(source);
        self
    }

    /// Below this many answers a score is shown as "too few answers" with the count, not
    /// as a number whose margin of error makes it meaningless (default
    /// [`DEFAULT_MIN_ANSWERS`]).
    pub fn min_answers(mut self, n: u64) -> Self {
        self.min_answers = n.max(1);
        self
    }

    /// How long a sign-in lasts (12 hours by default).
    pub fn session_lifetime(mut self, lifetime: std::time::Duration) -> Self {
        self.session_lifetime =
            chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(12));
        self
    }

    /// The clock sessions expire by (the system clock by default).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The router serving `/dashboard` (HTML; `?lang=` picks another language),
    /// `/dashboard/report.json`, `/dashboard/report.csv`, and `POST /dashboard/login` and
    /// `/dashboard/logout`, with the pages' headers
    /// ([`page_headers`](super::headers::page_headers)).
    pub fn into_router(self) -> Router {
        super::headers::page_headers(
            Router::new()
                .route("/dashboard", get(show))
                .route("/dashboard/report.json", get(json))
                .route("/dashboard/report.csv", get(csv))
                .route("/dashboard/retention", get(super::retention::show))
                .route("/dashboard/retention.json", get(super::retention::json))
                .route("/dashboard/retention.csv", get(super::retention::csv))
                .route("/dashboard/login", post(login))
                .route("/dashboard/logout", post(logout))
                .with_state(Arc::new(self)),
        )
    }

    /// Whether `given` is the key: both sides hashed to 32 bytes, compared in constant time.
    fn key_matches(&self, given: &[u8]) -> bool {
        let given: [u8; 32] = Sha256::digest(given).into();
        bool::from(given.ct_eq(&self.key_digest)) && self.open
    }

    pub(super) fn access(&self, headers: &HeaderMap, q: &HashMap<String, String>) -> Access {
        if let Some(auth) = headers.get(header::AUTHORIZATION) {
            let bearer = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            return match bearer {
                Some(k) if self.key_matches(k.as_bytes()) => Access::Key,
                _ => Access::Denied,
            };
        }
        let session = cookie(headers, SESSION_COOKIE)
            .is_some_and(|v| self.sessions.verify::<Session>(v, self.clock.now()).is_ok());
        if session {
            return Access::Session;
        }
        if q.contains_key("key") {
            tracing::warn!(
                "a dashboard request carried the key in the query string (`?key=`), which is no longer accepted: send `Authorization: Bearer <key>` or sign in at /dashboard; the key may now be in access logs and browser history, consider changing it"
            );
        }
        Access::Denied
    }

    pub(super) fn locale(&self, q: &HashMap<String, String>) -> String {
        q.get("lang")
            .filter(|l| {
                !l.is_empty()
                    && l.len() <= 35
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .cloned()
            .unwrap_or_else(|| self.locale.clone())
    }

    /// The sign-in page, with `status`.
    fn login_page(&self, locale: &str, status: StatusCode, wrong: bool) -> Response {
        let t = |id: &str| escape(&self.text.text(locale, id));
        let mut b = format!("<h1>{}</h1>\n", t("dash-title"));
        if wrong {
            b.push_str(&format!(
                "<p role=\"alert\" class=\"card\">{}</p>\n",
                t("dash-login-wrong")
            ));
        }
        b.push_str(&format!(
            "<form method=\"post\" action=\"/dashboard/login\" class=\"card\">\n<p><label for=\"key\">{}</label><br><input class=\"wide\" id=\"key\" name=\"key\" type=\"password\" autocomplete=\"current-password\" required></p>\n<p><button type=\"submit\" class=\"button\">{}</button></p>\n</form>\n",
            t("dash-login-key"),
            t("dash-login-submit")
        ));
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::WWW_AUTHENTICATE, "Bearer"),
            ],
            page(locale, &self.text.text(locale, "dash-login-title"), &b),
        )
            .into_response()
    }
}

pub(super) enum Access {
    /// A valid bearer key.
    Key,
    /// A valid session cookie.
    Session,
    Denied,
}

/// The value of the cookie `name` in the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

pub(super) fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "a valid dashboard key is required",
    )
        .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    key: String,
}

async fn login(
    State(d): State<Arc<Dashboard>>,
    Query(q): Query<HashMap<String, String>>,
    axum::extract::Form(form): axum::extract::Form<LoginForm>,
) -> Response {
    let locale = d.locale(&q);
    if !d.key_matches(form.key.as_bytes()) {
        tracing::warn!("dashboard sign-in refused: wrong key");
        return d.login_page(&locale, StatusCode::UNAUTHORIZED, true);
    }
    let token = d
        .sessions
        .sign(&Session {}, d.clock.now() + d.session_lifetime);
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/dashboard; Max-Age={}",
        d.session_lifetime.num_seconds()
    );
    tracing::info!("dashboard sign-in");
    let mut r = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, "/dashboard")],
        "",
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn logout() -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/dashboard".to_owned()),
            (
                header::SET_COOKIE,
                format!(
                    "{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/dashboard; Max-Age=0"
                ),
            ),
        ],
        "",
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
    if let Access::Denied = d.access(&headers, &q) {
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
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="trend-t" class="chart">
<title id="trend-t">{}</title>
<line x1="{pad}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#888" stroke-dasharray="4 4"/>
<text x="4" y="{yt}" font-size="20">100</text><text x="4" y="{y0t}" font-size="20">0</text><text x="4" y="{yb}" font-size="20">-100</text>
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
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#0b57d0\"><title>{}: {v:.0}</title></circle>\n<text x=\"{:.1}\" y=\"{}\" font-size=\"18\" text-anchor=\"middle\">{}</text>\n",
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
    // One id per scale: a page may show the NPS, CSAT and CES charts together.
    let id = format!("dist-{}-t", counts.len());
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}" class="chart">
<title id="{id}">{}</title>
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
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{score}: {c}</title></rect>\n<text x=\"{:.1}\" y=\"{}\" font-size=\"20\" text-anchor=\"middle\">{score}</text>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"18\" text-anchor=\"middle\">{c}</text>\n",
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
    // `?lang=ar` shows the page in another language than the configured one.
    let lang = d.locale(&q);
    let access = d.access(&headers, &q);
    if let Access::Denied = access {
        // A request with a (wrong) bearer key is a script's: it gets the plain refusal.
        if headers.contains_key(header::AUTHORIZATION) {
            return denied();
        }
        return d.login_page(&lang, StatusCode::UNAUTHORIZED, false);
    }
    let r = match load(&d).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    let l = &lang;
    let t = |id: &str| escape(&d.text.text(l, id));
    let mut b = format!(
        "<h1>{}</h1>\n<section class=\"card\"><dl>\n",
        t("dash-title")
    );
    let too_few = |n: u64| {
        format!(
            "{} <small><bdi dir=\"ltr\">(n = {n})</bdi></small>",
            t("dash-too-few")
        )
    };
    if let Some(n) = &r.overall.nps {
        let v = if n.responses < d.min_answers {
            too_few(n.responses)
        } else {
            format!(
                "<bdi dir=\"ltr\">{:.0} ± {:.0}</bdi> <small><bdi dir=\"ltr\">(n = {})</bdi></small>",
                n.nps, n.margin_of_error, n.responses
            )
        };
        b.push_str(&format!("<dt>NPS</dt><dd>{v}</dd>\n"));
    }
    if let Some(c) = &r.overall.csat {
        let v = if c.responses < d.min_answers {
            too_few(c.responses)
        } else {
            format!(
                "<bdi dir=\"ltr\">{:.0}% ± {:.0}</bdi> <small><bdi dir=\"ltr\">(n = {})</bdi></small>",
                c.csat, c.margin_of_error, c.responses
            )
        };
        b.push_str(&format!("<dt>CSAT</dt><dd>{v}</dd>\n"));
    }
    if let Some(c) = &r.overall.ces {
        let v = if c.responses < d.min_answers {
            too_few(c.responses)
        } else {
            format!(
                "<bdi dir=\"ltr\">{:.0}% ± {:.0}</bdi> <small><bdi dir=\"ltr\">(n = {})</bdi></small>",
                c.ces, c.margin_of_error, c.responses
            )
        };
        b.push_str(&format!("<dt>CES</dt><dd>{v}</dd>\n"));
    }
    b.push_str(&format!(
        "<dt>{}</dt><dd><bdi dir=\"ltr\">{:.0}%</bdi> <small><bdi dir=\"ltr\">({} / {})</bdi></small></dd>\n</dl>\n<p>{} <a href=\"/dashboard/report.csv\">CSV</a> · <a href=\"/dashboard/report.json\">JSON</a></p>{}</section>\n",
        t("dash-response-rate"),
        r.response_rate,
        r.responses,
        r.invitations,
        t("dash-download"),
        // The retention page, in the same language, when it is configured.
        if d.retention.is_some() {
            format!(
                "<p><a href=\"/dashboard/retention?lang={}\">{}</a></p>",
                escape(l),
                t("ret-title")
            )
        } else {
            String::new()
        }
    ));
    b.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>\n{}\n",
        t("dash-trend"),
        trend_svg(&r, &d.text.text(l, "dash-trend"))
    ));
    b.push_str(&format!("<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">NPS</th><th scope=\"col\">{}</th></tr></thead><tbody>\n", t("dash-week"), t("dash-responses")));
    for (w, g) in &r.weekly {
        if let Some(n) = &g.nps {
            let score = if n.responses < d.min_answers {
                t("dash-too-few")
            } else {
                format!("<bdi dir=\"ltr\">{:.0}</bdi>", n.nps)
            };
            b.push_str(&format!(
                "<tr><td><bdi dir=\"ltr\">{}</bdi></td><td>{score}</td><td><bdi dir=\"ltr\">{}</bdi></td></tr>\n",
                escape(w),
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
    if r.csat_distribution.iter().any(|c| *c > 0) {
        b.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2>\n{}\n</section>\n",
            t("dash-csat-distribution"),
            distribution_svg(
                &r.csat_distribution,
                1,
                false,
                &d.text.text(l, "dash-csat-distribution")
            )
        ));
    }
    if r.ces_distribution.iter().any(|c| *c > 0) {
        b.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2>\n{}\n</section>\n",
            t("dash-ces-distribution"),
            distribution_svg(
                &r.ces_distribution,
                1,
                false,
                &d.text.text(l, "dash-ces-distribution")
            )
        ));
    }
    for (dim, m) in &r.breakdowns {
        b.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">NPS</th><th scope=\"col\">{}</th></tr></thead><tbody>\n",
            escape(&d.text.text(l, &format!("dash-by-{dim}"))),
            t("dash-group"),
            t("dash-responses")
        ));
        // Groups without NPS answers have nothing to show in this table.
        for (k, n) in m.iter().filter_map(|(k, g)| g.nps.as_ref().map(|n| (k, n))) {
            let label = group_label_id(k).map_or_else(|| escape(k), t);
            let score = if n.responses < d.min_answers {
                t("dash-too-few")
            } else {
                format!(
                    "<bdi dir=\"ltr\">{:.0} ± {:.0}</bdi>",
                    n.nps, n.margin_of_error
                )
            };
            b.push_str(&format!(
                "<tr><th scope=\"row\">{label}</th><td>{score}</td><td><bdi dir=\"ltr\">{}</bdi></td></tr>\n",
                n.responses
            ));
        }
        b.push_str("</tbody></table></section>\n");
    }
    if let Access::Session = access {
        b.push_str(&format!(
            "<form method=\"post\" action=\"/dashboard/logout\"><p><button type=\"submit\" class=\"link\">{}</button></p></form>\n",
            t("dash-logout")
        ));
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
