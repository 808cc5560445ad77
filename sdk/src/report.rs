//! Satisfaction reports: NPS, CSAT and CES with their margins of error, response rate, weekly
//! trend, and breakdowns by any dimension (product, carrier, delivery lateness).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{NpsSummary, SurveyKind, SurveyResponse};

/// CSAT over a set of answers: the share of 4 and 5 answers on the 1-5 scale, with the
/// 95% margin of error of that proportion (`1.96 × sqrt(p(1−p)/n)`), and the mean.
///
/// ```
/// use aftercare::report::CsatSummary;
/// let s = CsatSummary::from_scores([5, 4, 4, 3, 1]).unwrap();
/// assert_eq!(s.satisfied, 3);
/// assert!((s.csat - 60.0).abs() < 1e-9);
/// assert!((s.mean - 3.4).abs() < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CsatSummary {
    /// Answers.
    pub responses: u64,
    /// Answers of 4 or 5.
    pub satisfied: u64,
    /// Percentage satisfied.
    pub csat: f64,
    /// Half-width of the 95% confidence interval, in percentage points.
    pub margin_of_error: f64,
    /// Mean score.
    pub mean: f64,
}

impl CsatSummary {
    /// Summarises CSAT answers (1-5; others ignored); `None` when there are none.
    pub fn from_scores(scores: impl IntoIterator<Item = u8>) -> Option<Self> {
        let valid: Vec<u8> = scores.into_iter().filter(|s| (1..=5).contains(s)).collect();
        let n = valid.len() as u64;
        if n == 0 {
            return None;
        }
        let satisfied = valid.iter().filter(|s| **s >= 4).count() as u64;
        let p = satisfied as f64 / n as f64;
        Some(Self {
            responses: n,
            satisfied,
            csat: p * 100.0,
            margin_of_error: 1.96 * (p * (1.0 - p) / n as f64).sqrt() * 100.0,
            mean: valid.iter().map(|s| f64::from(*s)).sum::<f64>() / n as f64,
        })
    }
}

/// CES over a set of answers (the 1-7 customer effort scale, 7 = very easy): the share of
/// 5-7 answers ("easy"), its 95% margin of error, and the mean.
///
/// ```
/// use aftercare::report::CesSummary;
/// let s = CesSummary::from_scores([7, 6, 5, 2]).unwrap();
/// assert_eq!(s.easy, 3);
/// assert!((s.ces - 75.0).abs() < 1e-9);
/// assert!((s.mean - 5.0).abs() < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CesSummary {
    /// Answers.
    pub responses: u64,
    /// Answers of 5, 6 or 7.
    pub easy: u64,
    /// Percentage who found it easy.
    pub ces: f64,
    /// Half-width of the 95% confidence interval, in percentage points.
    pub margin_of_error: f64,
    /// Mean score.
    pub mean: f64,
}

impl CesSummary {
    /// Summarises CES answers (1-7; others ignored); `None` when there are none.
    pub fn from_scores(scores: impl IntoIterator<Item = u8>) -> Option<Self> {
        let valid: Vec<u8> = scores.into_iter().filter(|s| (1..=7).contains(s)).collect();
        let n = valid.len() as u64;
        if n == 0 {
            return None;
        }
        let easy = valid.iter().filter(|s| **s >= 5).count() as u64;
        let p = easy as f64 / n as f64;
        Some(Self {
            responses: n,
            easy,
            ces: p * 100.0,
            margin_of_error: 1.96 * (p * (1.0 - p) / n as f64).sqrt() * 100.0,
            mean: valid.iter().map(|s| f64::from(*s)).sum::<f64>() / n as f64,
        })
    }
}

/// One answer with the facts it is broken down by.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fact {
    /// The answer.
    pub response: SurveyResponse,
    /// Dimension values (`product` → "Espresso grinder", `carrier` → "UPS",
    /// `lateness` → "on time" / "1-2 days late" / "3+ days late").
    pub dims: BTreeMap<String, String>,
}

impl Fact {
    /// A fact without dimensions.
    pub fn new(response: SurveyResponse) -> Self {
        Self {
            response,
            dims: BTreeMap::new(),
        }
    }
}

/// The lateness bucket of a delivery against its estimate.
pub fn lateness_bucket(
    estimated: Option<DateTime<Utc>>,
    delivered: Option<DateTime<Utc>>,
) -> &'static str {
    match (estimated, delivered) {
        (Some(e), Some(d)) => {
            let late_days = (d.date_naive() - e.date_naive()).num_days();
            match late_days {
                i64::MIN..=0 => "on time",
                1..=2 => "1-2 days late",
                _ => "3+ days late",
            }
        }
        _ => "unknown",
    }
}

/// Scores of one group of answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupScores {
    /// NPS, if any NPS answers.
    pub nps: Option<NpsSummary>,
    /// CSAT, if any CSAT answers.
    pub csat: Option<CsatSummary>,
    /// CES, if any CES answers.
    #[serde(default)]
    pub ces: Option<CesSummary>,
}

impl GroupScores {
    fn of<'a>(rs: impl Iterator<Item = &'a SurveyResponse> + Clone) -> Self {
        Self {
            nps: NpsSummary::from_scores(
                rs.clone()
                    .filter(|r| r.kind == SurveyKind::Nps)
                    .map(|r| r.score),
            ),
            csat: CsatSummary::from_scores(
                rs.clone()
                    .filter(|r| r.kind == SurveyKind::Csat)
                    .map(|r| r.score),
            ),
            ces: CesSummary::from_scores(rs.filter(|r| r.kind == SurveyKind::Ces).map(|r| r.score)),
        }
    }
}

/// A full report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// Invitations sent in the period.
    pub invitations: u64,
    /// Answers received.
    pub responses: u64,
    /// Answers ÷ invitations, percent.
    pub response_rate: f64,
    /// All answers.
    pub overall: GroupScores,
    /// Per ISO week (Monday, as `YYYY-MM-DD`).
    pub weekly: BTreeMap<String, GroupScores>,
    /// Per dimension, per value.
    pub breakdowns: BTreeMap<String, BTreeMap<String, GroupScores>>,
    /// How many NPS answers gave each score 0-10.
    pub nps_distribution: [u64; 11],
    /// How many CSAT answers gave each score 1-5 (index 0 is score 1).
    pub csat_distribution: [u64; 5],
    /// CES answers per score, 1 to 7.
    #[serde(default)]
    pub ces_distribution: [u64; 7],
    /// Repeat purchases of respondents against non-respondents, when computed
    /// ([`Report::with_repeat_purchase`]).
    #[serde(default)]
    pub repeat_purchase: Option<RepeatPurchase>,
}

/// How many invited customers bought again after the invitation, split by whether they
/// answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepeatPurchase {
    /// Invited customers who answered.
    pub respondents: u64,
    /// Of them, those who ordered again after the invitation.
    pub respondents_repeat: u64,
    /// Invited customers who did not answer.
    pub non_respondents: u64,
    /// Of them, those who ordered again after the invitation.
    pub non_respondents_repeat: u64,
}

impl RepeatPurchase {
    /// Counts repeat purchases. `invited` holds, per invitation: the customer, when the
    /// invitation went out, the order it was about, and whether it was answered; `orders`
    /// holds each customer's orders with their creation times. A customer invited several
    /// times counts once, with their first invitation; an order counts as a repeat when it
    /// is another order than the surveyed one, created after the invitation.
    ///
    /// ```
    /// use aftercare::report::RepeatPurchase;
    /// let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    /// let invited = [
    ///     ("c1".to_owned(), t("2026-03-01T00:00:00Z"), "o1".to_owned(), true),
    ///     ("c2".to_owned(), t("2026-03-01T00:00:00Z"), "o2".to_owned(), false),
    /// ];
    /// let orders = std::collections::HashMap::from([
    ///     ("c1".to_owned(), vec![("o1".to_owned(), t("2026-02-20T00:00:00Z")), ("o3".to_owned(), t("2026-03-10T00:00:00Z"))]),
    /// ]);
    /// let r = RepeatPurchase::count(&invited, &orders);
    /// assert_eq!((r.respondents, r.respondents_repeat, r.non_respondents, r.non_respondents_repeat), (1, 1, 1, 0));
    /// ```
    pub fn count(
        invited: &[(String, DateTime<Utc>, String, bool)],
        orders: &std::collections::HashMap<String, Vec<(String, DateTime<Utc>)>>,
    ) -> Self {
        let mut first: BTreeMap<&str, (DateTime<Utc>, &str, bool)> = BTreeMap::new();
        for (customer, at, order, answered) in invited {
            let e = first
                .entry(customer.as_str())
                .or_insert((*at, order.as_str(), *answered));
            if *at < e.0 {
                *e = (*at, order.as_str(), *answered || e.2);
            } else {
                e.2 |= *answered;
            }
        }
        let mut out = Self::default();
        for (customer, (at, surveyed, answered)) in first {
            let again = orders.get(customer).is_some_and(|os| {
                os.iter()
                    .any(|(id, created)| id != surveyed && *created > at)
            });
            if answered {
                out.respondents += 1;
                out.respondents_repeat += u64::from(again);
            } else {
                out.non_respondents += 1;
                out.non_respondents_repeat += u64::from(again);
            }
        }
        out
    }

    /// Respondents' repeat rate, percent.
    pub fn respondents_rate(&self) -> Option<f64> {
        (self.respondents > 0)
            .then(|| self.respondents_repeat as f64 * 100.0 / self.respondents as f64)
    }

    /// Non-respondents' repeat rate, percent.
    pub fn non_respondents_rate(&self) -> Option<f64> {
        (self.non_respondents > 0)
            .then(|| self.non_respondents_repeat as f64 * 100.0 / self.non_respondents as f64)
    }
}

impl Report {
    /// Adds the repeat-purchase comparison.
    pub fn with_repeat_purchase(mut self, repeat: RepeatPurchase) -> Self {
        self.repeat_purchase = Some(repeat);
        self
    }

    /// Builds a report from answers with their facts and the number of invitations sent.
    pub fn build(facts: &[Fact], invitations: u64) -> Self {
        let responses = facts.len() as u64;
        let all = facts.iter().map(|f| &f.response);
        let mut weekly: BTreeMap<String, Vec<&SurveyResponse>> = BTreeMap::new();
        let mut dims: BTreeMap<String, BTreeMap<String, Vec<&SurveyResponse>>> = BTreeMap::new();
        for f in facts {
            weekly
                .entry(week_start(f.response.answered_at).to_string())
                .or_default()
                .push(&f.response);
            for (d, v) in &f.dims {
                dims.entry(d.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .push(&f.response);
            }
        }
        let mut nps_distribution = [0u64; 11];
        let mut csat_distribution = [0u64; 5];
        let mut ces_distribution = [0u64; 7];
        for f in facts {
            let r = &f.response;
            match r.kind {
                SurveyKind::Nps if r.score <= 10 => nps_distribution[usize::from(r.score)] += 1,
                SurveyKind::Csat if (1..=5).contains(&r.score) => {
                    csat_distribution[usize::from(r.score - 1)] += 1
                }
                SurveyKind::Ces if (1..=7).contains(&r.score) => {
                    ces_distribution[usize::from(r.score - 1)] += 1
                }
                _ => {}
            }
        }
        Self {
            invitations,
            responses,
            nps_distribution,
            csat_distribution,
            ces_distribution,
            repeat_purchase: None,
            response_rate: if invitations == 0 {
                0.0
            } else {
                responses as f64 * 100.0 / invitations as f64
            },
            overall: GroupScores::of(all),
            weekly: weekly
                .into_iter()
                .map(|(k, v)| (k, GroupScores::of(v.into_iter())))
                .collect(),
            breakdowns: dims
                .into_iter()
                .map(|(d, m)| {
                    (
                        d,
                        m.into_iter()
                            .map(|(k, v)| (k, GroupScores::of(v.into_iter())))
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

impl Report {
    /// The report as CSV: one row per group (`overall`, `week`, and each breakdown value),
    /// with responses, NPS, CSAT and CES (% easy), each with its margin.
    pub fn to_csv(&self) -> String {
        fn f(x: Option<f64>) -> String {
            x.map(|v| format!("{v:.1}")).unwrap_or_default()
        }
        fn q(s: &str) -> String {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        }
        fn row(out: &mut String, group: &str, key: &str, g: &GroupScores) {
            let n = g.nps.as_ref().map_or(0, |n| n.responses)
                + g.csat.as_ref().map_or(0, |c| c.responses)
                + g.ces.as_ref().map_or(0, |c| c.responses);
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                q(group),
                q(key),
                n,
                f(g.nps.as_ref().map(|n| n.nps)),
                f(g.nps.as_ref().map(|n| n.margin_of_error)),
                f(g.csat.as_ref().map(|c| c.csat)),
                f(g.csat.as_ref().map(|c| c.margin_of_error)),
                f(g.ces.as_ref().map(|c| c.ces)),
                f(g.ces.as_ref().map(|c| c.margin_of_error)),
            ));
        }
        let mut out =
            String::from("group,key,responses,nps,nps_margin,csat,csat_margin,ces,ces_margin\n");
        row(&mut out, "overall", "", &self.overall);
        for (w, g) in &self.weekly {
            row(&mut out, "week", w, g);
        }
        for (d, m) in &self.breakdowns {
            for (k, g) in m {
                row(&mut out, d, k, g);
            }
        }
        out
    }
}

/// The Monday of the ISO week containing `t` (UTC).
pub fn week_start(t: DateTime<Utc>) -> NaiveDate {
    let d = t.date_naive();
    d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// The answers with a comment containing `query` (case-insensitive, Unicode-aware; every
/// commented answer when `query` is blank), newest first.
///
/// ```
/// use aftercare::model::{OrderId, SurveyKind, SurveyResponse};
/// use aftercare::report::search_comments;
/// let mut r = SurveyResponse::new("i1", SurveyKind::Nps, OrderId::from("1"), 3, "web", "2026-03-02T10:00:00Z".parse().unwrap());
/// r.comment = Some("La caja llegó ROTA".into());
/// let all = [r];
/// assert_eq!(search_comments(&all, "rota").len(), 1);
/// assert!(search_comments(&all, "late").is_empty());
/// ```
pub fn search_comments<'a>(
    responses: &'a [SurveyResponse],
    query: &str,
) -> Vec<&'a SurveyResponse> {
    let q = query.trim().to_lowercase();
    let mut out: Vec<&SurveyResponse> = responses
        .iter()
        .filter(|r| {
            r.comment
                .as_deref()
                .is_some_and(|c| !c.trim().is_empty() && c.to_lowercase().contains(&q))
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.answered_at));
    out
}

/// Commented answers as CSV (`answered_at,kind,score,order_id,via,comment`). A comment is
/// the customer's text: one starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
/// prefixed with `'` so that a spreadsheet shows it rather than running it as a formula
/// (CSV injection).
pub fn comments_csv(responses: &[&SurveyResponse]) -> String {
    fn cell(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    }
    let mut out = String::from("answered_at,kind,score,order_id,via,comment\n");
    for r in responses {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.answered_at.to_rfc3339(),
            r.kind.as_str(),
            r.score,
            cell(r.order_id.as_str()),
            cell(&r.via),
            cell(r.comment.as_deref().unwrap_or_default())
        ));
    }
    out
}
