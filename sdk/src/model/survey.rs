use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ChannelKind, CustomerId, OrderId, ShopId};

/// The kind of satisfaction question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SurveyKind {
    /// Net Promoter Score: 0-10, "how likely are you to recommend".
    Nps,
    /// Customer satisfaction: 1-5.
    Csat,
    /// Customer effort score: 1-7.
    Ces,
}

impl SurveyKind {
    /// The inclusive range of valid scores.
    pub fn range(self) -> std::ops::RangeInclusive<u8> {
        match self {
            SurveyKind::Nps => 0..=10,
            SurveyKind::Csat => 1..=5,
            SurveyKind::Ces => 1..=7,
        }
    }

    /// Whether a score is unhappy enough to alert support: NPS 0-6, CSAT 1-2, CES 1-3
    /// (on the "easy" 1-7 scale where 7 is easiest).
    pub fn is_detractor(self, score: u8) -> bool {
        match self {
            SurveyKind::Nps => score <= 6,
            SurveyKind::Csat => score <= 2,
            SurveyKind::Ces => score <= 3,
        }
    }

    /// Stable text form used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Nps => "nps",
            SurveyKind::Csat => "csat",
            SurveyKind::Ces => "ces",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "nps" => SurveyKind::Nps,
            "csat" => SurveyKind::Csat,
            "ces" => SurveyKind::Ces,
            _ => return None,
        })
    }
}

/// An invitation to answer a survey about one order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Invitation {
    /// Unique id, bound into the answer link's signed token.
    pub id: String,
    /// What is asked.
    pub kind: SurveyKind,
    /// The shop.
    pub shop: Option<ShopId>,
    /// The order it is about.
    pub order_id: OrderId,
    /// Who is asked.
    pub customer_id: Option<CustomerId>,
    /// On which channel it was sent.
    pub channel: ChannelKind,
    /// Locale it was written in.
    pub locale: String,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// After this, answers are kept as comments, not scores.
    pub closes_at: DateTime<Utc>,
}

impl Invitation {
    /// An invitation sent at `sent_at`, open until `closes_at`; no shop or customer yet
    /// (see [`Invitation::shop`] and [`Invitation::customer`]).
    pub fn new(
        id: impl Into<String>,
        kind: SurveyKind,
        order_id: OrderId,
        channel: ChannelKind,
        locale: impl Into<String>,
        sent_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: id.into(),
            kind,
            shop: None,
            order_id,
            customer_id: None,
            channel,
            locale: locale.into(),
            sent_at,
            closes_at,
        }
    }

    /// Sets the shop.
    pub fn shop(mut self, shop: ShopId) -> Self {
        self.shop = Some(shop);
        self
    }

    /// Sets the customer asked.
    pub fn customer(mut self, customer: CustomerId) -> Self {
        self.customer_id = Some(customer);
        self
    }
}

/// One answer to an invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SurveyResponse {
    /// The invitation answered; one final answer per invitation.
    pub invitation_id: String,
    /// What was asked.
    pub kind: SurveyKind,
    /// The order.
    pub order_id: OrderId,
    /// The customer; `None` once redacted.
    pub customer_id: Option<CustomerId>,
    /// The score, within [`SurveyKind::range`].
    pub score: u8,
    /// The "why", if given; `None` once redacted.
    pub comment: Option<String>,
    /// How it was answered (`web`, `email_click`, `sms_reply`, `whatsapp_button`).
    pub via: String,
    /// When.
    pub answered_at: DateTime<Utc>,
}

impl SurveyResponse {
    /// An answer with no customer or comment yet (see [`SurveyResponse::customer`] and
    /// [`SurveyResponse::comment`]).
    pub fn new(
        invitation_id: impl Into<String>,
        kind: SurveyKind,
        order_id: OrderId,
        score: u8,
        via: impl Into<String>,
        answered_at: DateTime<Utc>,
    ) -> Self {
        Self {
            invitation_id: invitation_id.into(),
            kind,
            order_id,
            customer_id: None,
            score,
            comment: None,
            via: via.into(),
            answered_at,
        }
    }

    /// Sets the customer who answered.
    pub fn customer(mut self, customer: CustomerId) -> Self {
        self.customer_id = Some(customer);
        self
    }

    /// Sets the "why".
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

/// A Net Promoter Score over a set of answers, with its margin of error.
///
/// NPS = % promoters (9-10) − % detractors (0-6). The margin of error at 95% confidence is
/// `1.96 × sqrt((p + d − (p − d)²) / n) × 100`, where `p` and `d` are the promoter and
/// detractor shares: the variance of a variable that is +1 for a promoter, −1 for a detractor
/// and 0 for a passive.
///
/// ```
/// use aftercare::model::NpsSummary;
/// // 5 promoters, 3 passives, 2 detractors.
/// let s = NpsSummary::from_scores([10, 9, 9, 10, 9, 8, 7, 7, 3, 6]).unwrap();
/// assert_eq!(s.nps, 30.0);
/// assert!((s.margin_of_error - 48.41).abs() < 0.01);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct NpsSummary {
    /// Number of answers.
    pub responses: u64,
    /// Answers of 9 or 10.
    pub promoters: u64,
    /// Answers of 7 or 8.
    pub passives: u64,
    /// Answers of 0 to 6.
    pub detractors: u64,
    /// The score, −100 to 100.
    pub nps: f64,
    /// Half-width of the 95% confidence interval, in NPS points.
    pub margin_of_error: f64,
}

impl NpsSummary {
    /// Summarises NPS answers; `None` when there are none. Scores above 10 are ignored.
    pub fn from_scores(scores: impl IntoIterator<Item = u8>) -> Option<Self> {
        let (mut p, mut pa, mut d) = (0u64, 0u64, 0u64);
        for s in scores {
            match s {
                9..=10 => p += 1,
                7..=8 => pa += 1,
                0..=6 => d += 1,
                _ => {}
            }
        }
        let n = p + pa + d;
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let (ps, ds) = (p as f64 / nf, d as f64 / nf);
        let var = ps + ds - (ps - ds).powi(2);
        Some(Self {
            responses: n,
            promoters: p,
            passives: pa,
            detractors: d,
            nps: (ps - ds) * 100.0,
            margin_of_error: 1.96 * (var / nf).sqrt() * 100.0,
        })
    }
}
