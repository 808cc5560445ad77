//! The dashboard's comment search: `/dashboard/comments?q=…&page=…` (server-rendered, no
//! script: a labelled search form, the matching comments newest first in a table, 50 a page
//! with previous/next links), `/dashboard/comments.csv?q=…` and `/dashboard/comments.json?q=…`
//! (every match; the CSV guards against spreadsheet formulas, see
//! [`comments_csv`]). Same access as the rest of the dashboard
//! (bearer key or session). Enabled with [`Dashboard::with_comments`].
//!
//! A [`CommentSource`] answers for one shop: [`StoreComments`] reads a shop's
//! [`SurveyStore`] (with several shops, the shop's own store, as the tenancy layer gives
//! it). The matching is [`search_comments`]: the answer's
//! comment contains the query, case-insensitive; a blank query lists every comment.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::dashboard::{Access, Dashboard, denied};
use crate::Error;
use crate::clock::Clock;
use crate::html::{escape, page};
use crate::model::SurveyResponse;
use crate::report::{comments_csv, search_comments};
use crate::store::SurveyStore;

/// Comments a page shows.
pub const PER_PAGE: usize = 50;

/// The longest query taken (longer ones are cut, on a character boundary).
pub const MAX_QUERY_CHARS: usize = 200;

/// The answers whose comment matches, for one shop.
#[async_trait]
pub trait CommentSource: Send + Sync {
    /// Every answer with a comment matching `query`, newest first.
    async fn search(&self, query: &str) -> Result<Vec<SurveyResponse>, Error>;
}

/// A [`CommentSource`] over a shop's [`SurveyStore`]: the answers of the last
/// `period_days` days (365 by default, the default retention period: older comments are
/// erased anyway).
#[derive(Clone)]
pub struct StoreComments {
    store: Arc<dyn SurveyStore>,
    clock: Arc<dyn Clock>,
    period_days: i64,
}

impl StoreComments {
    /// The comments in `store` as of the clock's now.
    pub fn new(store: Arc<dyn SurveyStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            period_days: 365,
        }
    }

    /// How many days back comments are searched.
    pub fn period_days(mut self, days: u32) -> Self {
        self.period_days = i64::from(days.max(1));
        self
    }
}

#[async_trait]
impl CommentSource for StoreComments {
    async fn search(&self, query: &str) -> Result<Vec<SurveyResponse>, Error> {
        let now = self.clock.now();
        let all = self
            .store
            .responses_between(
                now - chrono::Duration::days(self.period_days),
                now + chrono::Duration::seconds(1),
            )
            .await?;
        Ok(search_comments(&all, query).into_iter().cloned().collect())
    }
}

/// The JSON export.
#[derive(Serialize)]
struct Export<'a> {
    query: &'a str,
    total: usize,
    answers: &'a [SurveyResponse],
}

fn query_of(q: &HashMap<String, String>) -> String {
    q.get("q")
        .map(|s| s.trim().chars().take(MAX_QUERY_CHARS).collect())
        .unwrap_or_default()
}

/// A query string's value, percent-encoded (every byte but the unreserved ones).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page's body: the search form, the page of matches, the pages' links, the exports.
pub fn body(query: &str, matches: &[SurveyResponse], page_no: usize) -> String {
    let total = matches.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page_no = page_no.clamp(1, pages);
    let mut b = String::from("<h1>Comments</h1>\n");
    b.push_str(&format!(
        "<form method=\"get\" action=\"/dashboard/comments\" role=\"search\">\n\
         <label for=\"q\">Search the comments</label>\n\
         <input type=\"search\" id=\"q\" name=\"q\" value=\"{}\" maxlength=\"{MAX_QUERY_CHARS}\">\n\
         <button type=\"submit\">Search</button>\n</form>\n",
        escape(query)
    ));
    let what = if query.is_empty() {
        format!("{total} comment(s)")
    } else {
        format!("{total} comment(s) containing “{}”", escape(query))
    };
    b.push_str(&format!(
        "<p role=\"status\">{what}; page {page_no} of {pages}</p>\n"
    ));
    if total > 0 {
        b.push_str(
            "<table>\n<caption>Comments, newest first</caption>\n<tr><th scope=\"col\">Answered</th><th scope=\"col\">Survey</th><th scope=\"col\">Score</th><th scope=\"col\">Order</th><th scope=\"col\">Comment</th></tr>\n",
        );
        for r in matches.iter().skip((page_no - 1) * PER_PAGE).take(PER_PAGE) {
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                r.answered_at.format("%Y-%m-%d %H:%M UTC"),
                escape(r.kind.as_str()),
                r.score,
                escape(r.order_id.as_str()),
                escape(r.comment.as_deref().unwrap_or_default())
            ));
        }
        b.push_str("</table>\n");
    }
    let q = enc(query);
    if pages > 1 {
        b.push_str("<nav aria-label=\"Pages of comments\"><p>");
        if page_no > 1 {
            b.push_str(&format!(
                "<a href=\"/dashboard/comments?q={q}&amp;page={}\" rel=\"prev\">Previous page</a> ",
                page_no - 1
            ));
        }
        if page_no < pages {
            b.push_str(&format!(
                "<a href=\"/dashboard/comments?q={q}&amp;page={}\" rel=\"next\">Next page</a>",
                page_no + 1
            ));
        }
        b.push_str("</p></nav>\n");
    }
    b.push_str(&format!(
        "<p>Every match: <a href=\"/dashboard/comments.csv?q={q}\">CSV</a> · <a href=\"/dashboard/comments.json?q={q}\">JSON</a></p>\n"
    ));
    b
}

async fn load(d: &Dashboard, query: &str) -> Result<Vec<SurveyResponse>, Response> {
    let Some(src) = &d.comments else {
        return Err((StatusCode::NOT_FOUND, "comment search is not configured").into_response());
    };
    src.search(query).await.map_err(|e| {
        tracing::error!(error = %e, "comment search failed");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the comments could not be read; see the logs",
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
    let query = query_of(&q);
    let page_no = q
        .get("page")
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1);
    match load(&d, &query).await {
        Ok(m) => Html(page("en", "Comments", &body(&query, &m, page_no))).into_response(),
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
    let query = query_of(&q);
    match load(&d, &query).await {
        Ok(m) => axum::Json(Export {
            query: &query,
            total: m.len(),
            answers: &m,
        })
        .into_response(),
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
    let query = query_of(&q);
    match load(&d, &query).await {
        Ok(m) => {
            let refs: Vec<&SurveyResponse> = m.iter().collect();
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"comments.csv\"",
                    ),
                ],
                comments_csv(&refs),
            )
                .into_response()
        }
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::{OrderId, SurveyKind};

    fn answer(i: usize, comment: &str) -> SurveyResponse {
        let at = "2026-03-01T10:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            + chrono::Duration::minutes(i as i64);
        let mut r = SurveyResponse::new(
            format!("i{i}"),
            SurveyKind::Nps,
            OrderId::from(format!("{}", 1000 + i)),
            3,
            "web",
            at,
        );
        r.comment = Some(comment.to_owned());
        r
    }

    #[test]
    fn the_page_escapes_the_query_and_the_comments() {
        let m = [answer(1, "<script>alert(1)</script> & late")];
        let b = body("\"><img src=x>", &m, 1);
        assert!(!b.contains("<script>alert"), "{b}");
        assert!(
            b.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; late"),
            "{b}"
        );
        assert!(!b.contains("\"><img"), "{b}");
        assert!(b.contains("q=%22%3E%3Cimg%20src%3Dx%3E"), "{b}");
        assert!(b.contains("<label for=\"q\">"), "{b}");
    }

    #[test]
    fn pages_of_fifty_with_previous_and_next() {
        let m: Vec<_> = (0..120)
            .map(|i| answer(i, &format!("comment {i}")))
            .collect();
        let first = body("", &m, 1);
        assert_eq!(first.matches("<tr><td>").count(), PER_PAGE);
        assert!(first.contains("page 1 of 3"));
        assert!(first.contains("page=2\" rel=\"next\""));
        assert!(!first.contains("rel=\"prev\""));
        let last = body("", &m, 3);
        assert_eq!(last.matches("<tr><td>").count(), 20);
        assert!(last.contains("page=2\" rel=\"prev\""));
        assert!(!last.contains("rel=\"next\""));
        // A page past the end shows the last one.
        assert_eq!(body("", &m, 99), last);
    }
}
