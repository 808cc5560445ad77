//! The survey page: `GET /s/{token}` shows the question, `POST /s/{token}` records the
//! answer. Server-rendered, no JavaScript, keyboard-usable radio buttons with labels,
//! localized, right-to-left correct.
//!
//! **Mail scanners.** Security scanners open every link in an email before the customer
//! does, so a GET never records anything. One-click links in email are
//! `GET /s/{token}?score=9`: the page opens with 9 chosen and one tap on "Send" confirms it
//! (a POST). A scanner's GET therefore changes nothing.
//!
//! **Direction of the scale in Arabic.** The 0-10 (or 1-5) scale follows the reading
//! direction: in Arabic it runs right to left, 0 on the right and 10 on the left, with the
//! "not at all likely" label at the 0 end. Low-to-high then matches the order in which an
//! Arabic reader reads, which is the convention of Arabic survey tools; the numbers
//! themselves stay as the customer's locale writes them.
//!
//! **Tokens.** A link carries a signed token bound to one invitation (purpose `survey`),
//! expiring when the invitation closes. A forged token is refused (404), an expired one
//! answered with 410, and an answered invitation cannot be answered again: a double
//! submission counts once.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::html::escape;
use super::tracking::PageText;
use crate::clock::Clock;
use crate::model::{SurveyKind, SurveyResponse};
use crate::store::SurveyStore;
use crate::token::{TokenError, TokenSigner};

pub use crate::flows::feedback::SurveyClaims;

/// The survey page's follow-up of an answer: defined by the flow (the page calls it, the
/// flow decides), re-exported here.
pub use crate::flows::feedback::AnswerHook;

/// The survey page's state.
#[derive(Clone)]
pub struct SurveyPage {
    store: Arc<dyn SurveyStore>,
    tokens: TokenSigner,
    text: Arc<dyn PageText>,
    clock: Arc<dyn Clock>,
    hook: Option<Arc<dyn AnswerHook>>,
    links: Option<crate::links::ShortLinks>,
}

impl std::fmt::Debug for SurveyPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SurveyPage").finish_non_exhaustive()
    }
}

impl SurveyPage {
    /// A page over the survey store; `tokens` has purpose `survey`.
    pub fn new(
        store: Arc<dyn SurveyStore>,
        tokens: TokenSigner,
        text: Arc<dyn PageText>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            tokens,
            text,
            clock,
            hook: None,
            links: None,
        }
    }

    /// Runs `hook` after each new answer.
    pub fn on_answer(mut self, hook: Arc<dyn AnswerHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Resolves short link ids ([`crate::links`]) from this store, the flow's.
    pub fn short_links(mut self, store: Arc<dyn crate::store::SnapshotStore>) -> Self {
        self.links = Some(crate::links::ShortLinks::new(store));
        self
    }

    /// The router serving `/s/{token}`.
    pub fn into_router(self) -> Router {
        let branding = self.text.branding().cloned();
        super::headers::page_headers_for(
            Router::new()
                .route("/s/{token}", get(show).post(submit))
                .with_state(Arc::new(self)),
            branding.as_ref(),
        )
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// A page that is not the form: closed, invalid, unavailable (the shop named, its support
/// link offered).
fn message(p: &SurveyPage, status: StatusCode, locale: &str, id: &str) -> Response {
    html(status, super::error_page(p.text.as_ref(), locale, id, None))
}

/// The page after an answer (or for one already given): thanks, a link back to the shop,
/// and for a promoter the shop's review page when it has one.
fn thanks(p: &SurveyPage, locale: &str, id: &str, promoter: bool) -> Response {
    let t = |id: &str| crate::html::escape_isolated(&p.text.text(locale, id));
    let msg = p.text.text(locale, id);
    let mut b = format!("<h1>{}</h1>\n", crate::html::escape_isolated(&msg));
    if let Some(review) = p
        .text
        .branding()
        .and_then(|b| b.review())
        .filter(|_| promoter)
    {
        b.push_str(&format!(
            "<p>{}</p>\n<p><a class=\"button\" href=\"{}\">{}</a></p>\n",
            t("survey-review-prompt"),
            escape(review),
            t("survey-review-link")
        ));
    }
    if let Some(shop) = p.text.branding().and_then(|b| b.shop()) {
        b.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>\n",
            escape(shop),
            t("page-back-to-shop")
        ));
    }
    html(
        StatusCode::OK,
        super::shell(p.text.as_ref(), locale, &msg, &b),
    )
}

/// Whether a score is a promoter's: 9-10 of NPS, 5 of CSAT, 6-7 of CES.
fn promoter(kind: SurveyKind, score: u8) -> bool {
    match kind {
        SurveyKind::Nps => score >= 9,
        SurveyKind::Csat => score >= 5,
        SurveyKind::Ces => score >= 6,
    }
}

async fn load(
    p: &SurveyPage,
    token: &str,
    loc: &str,
) -> Result<crate::model::Invitation, Response> {
    let resolved;
    let token = match &p.links {
        Some(links) => {
            resolved = links
                .resolve("survey", token)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "survey page could not resolve a short link");
                    message(p, StatusCode::SERVICE_UNAVAILABLE, loc, "page-unavailable")
                })?
                .unwrap_or_else(|| token.to_owned());
            resolved.as_str()
        }
        None => token,
    };
    let claims: SurveyClaims = p.tokens.verify(token, p.clock.now()).map_err(|e| match e {
        TokenError::Expired(_) => message(p, StatusCode::GONE, loc, "survey-closed"),
        _ => message(p, StatusCode::NOT_FOUND, loc, "page-link-invalid"),
    })?;
    match p.store.invitation(&claims.i).await {
        Ok(Some(inv)) => Ok(inv),
        Ok(None) => Err(message(p, StatusCode::NOT_FOUND, loc, "page-link-invalid")),
        Err(e) => {
            tracing::error!(error = %e, "survey page could not load the invitation");
            Err(message(
                p,
                StatusCode::SERVICE_UNAVAILABLE,
                loc,
                "page-unavailable",
            ))
        }
    }
}

/// The kind's name in catalog ids: each kind has its own question and scale ends.
fn kind_name(kind: SurveyKind) -> &'static str {
    match kind {
        SurveyKind::Nps => "nps",
        SurveyKind::Csat => "csat",
        SurveyKind::Ces => "ces",
    }
}

fn question_id(kind: SurveyKind) -> &'static str {
    match kind {
        SurveyKind::Nps => "survey-nps-question",
        SurveyKind::Csat => "survey-csat-question",
        SurveyKind::Ces => "survey-ces-question",
    }
}

fn form(
    p: &SurveyPage,
    token: &str,
    inv: &crate::model::Invitation,
    chosen: Option<u8>,
    error: Option<&str>,
) -> String {
    let l = &inv.locale;
    let t = |id: &str| crate::html::escape_isolated(&p.text.text(l, id));
    let mut b = String::new();
    b.push_str(&format!("<h1 id=\"q\">{}</h1>\n", t(question_id(inv.kind))));
    if let Some(e) = error {
        b.push_str(&format!("<p role=\"alert\" class=\"card\">{}</p>\n", t(e)));
    }
    if chosen.is_some() {
        b.push_str(&format!("<p>{}</p>\n", t("survey-confirm-hint")));
    }
    b.push_str(&format!(
        "<form method=\"post\" action=\"/s/{}\" class=\"card\">\n<fieldset class=\"scale\" aria-labelledby=\"q\">\n<legend class=\"ends\"><span>{}</span> <span>{}</span></legend>\n<div class=\"points\">\n",
        escape(token),
        t(&format!("survey-{}-low", kind_name(inv.kind))),
        t(&format!("survey-{}-high", kind_name(inv.kind))),
    ));
    for s in inv.kind.range() {
        let checked = if chosen == Some(s) { " checked" } else { "" };
        b.push_str(&format!(
            "<label class=\"point\"><input type=\"radio\" name=\"score\" value=\"{s}\" required{checked}><span>{}</span></label>\n",
            escape(&p.text.text(l, &format!("digit-{s}")))
        ));
    }
    b.push_str("</div>\n</fieldset>\n");
    b.push_str(&format!(
        "<p><label for=\"comment\">{}</label><br><textarea id=\"comment\" name=\"comment\" rows=\"4\" maxlength=\"2000\"></textarea></p>\n<p><button type=\"submit\" class=\"button\">{}</button></p>\n</form>\n",
        t("survey-comment-label"),
        t("survey-submit")
    ));
    b
}

async fn show(
    State(p): State<Arc<SurveyPage>>,
    Path(token): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let loc = super::accepted_locale(&headers, "en");
    let inv = match load(&p, &token, &loc).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    if p.clock.now() > inv.closes_at {
        return message(&p, StatusCode::GONE, &inv.locale, "survey-closed");
    }
    if answered(&p, &inv).await {
        return thanks(&p, &inv.locale, "survey-already-answered", false);
    }
    let chosen = q
        .get("score")
        .and_then(|s| s.parse::<u8>().ok())
        .filter(|s| inv.kind.range().contains(s));
    let title = p.text.text(&inv.locale, question_id(inv.kind));
    html(
        StatusCode::OK,
        super::shell(
            p.text.as_ref(),
            &inv.locale,
            &title,
            &form(&p, &token, &inv, chosen, None),
        ),
    )
}

async fn answered(p: &SurveyPage, inv: &crate::model::Invitation) -> bool {
    matches!(p.store.response(&inv.id).await, Ok(Some(_)))
}

#[derive(Deserialize)]
struct Answer {
    score: Option<String>,
    comment: Option<String>,
}

async fn submit(
    State(p): State<Arc<SurveyPage>>,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
    axum::extract::Form(a): axum::extract::Form<Answer>,
) -> Response {
    let loc = super::accepted_locale(&headers, "en");
    let inv = match load(&p, &token, &loc).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = p.clock.now();
    if now > inv.closes_at {
        return message(&p, StatusCode::GONE, &inv.locale, "survey-closed");
    }
    let Some(score) = a
        .score
        .as_deref()
        .and_then(|s| s.trim().parse::<u8>().ok())
        .filter(|s| inv.kind.range().contains(s))
    else {
        let title = p.text.text(&inv.locale, question_id(inv.kind));
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            super::shell(
                p.text.as_ref(),
                &inv.locale,
                &title,
                &form(&p, &token, &inv, None, Some("survey-pick-a-score")),
            ),
        );
    };
    let comment = a
        .comment
        .map(|c| c.trim().chars().take(2000).collect::<String>())
        .filter(|c| !c.is_empty());
    let response = SurveyResponse {
        invitation_id: inv.id.clone(),
        kind: inv.kind,
        order_id: inv.order_id.clone(),
        customer_id: inv.customer_id.clone(),
        score,
        comment,
        via: "web".into(),
        answered_at: now,
    };
    if let Some(h) = &p.hook
        && let Err(e) = h.before_record(&response, &inv).await
    {
        tracing::error!(error = %e, "survey answer's follow-up could not be queued");
        return message(
            &p,
            StatusCode::SERVICE_UNAVAILABLE,
            &inv.locale,
            "page-unavailable",
        );
    }
    match p.store.record_response(&response).await {
        Ok(true) => {
            if let Some(h) = &p.hook {
                h.answered(&response).await;
            }
            thanks(&p, &inv.locale, "survey-thanks", promoter(inv.kind, score))
        }
        Ok(false) => thanks(&p, &inv.locale, "survey-already-answered", false),
        Err(e) => {
            tracing::error!(error = %e, "survey answer could not be stored");
            message(
                &p,
                StatusCode::SERVICE_UNAVAILABLE,
                &inv.locale,
                "page-unavailable",
            )
        }
    }
}
