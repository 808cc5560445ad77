//! Feedback: ask how it went after delivery, read the answers, act on unhappy ones.
//!
//! - **Scheduling** ([`FeedbackFlow`]): a shipment that ships schedules a fallback invitation
//!   M days later; one that is delivered schedules the invitation N days after delivery. Both
//!   go through the outbox (so quiet hours, consent and channel rules apply), each with its
//!   own reminder R days after it. At most one invitation per order and survey kind is ever
//!   sent, and at most one reminder. The after-delivery invitation is saved when scheduled;
//!   the fallback is saved only when it is sent, so a delivery reported before the fallback
//!   is due gives the invitation its own dates (survey window, cool-down).
//! - **At dispatch** ([`SurveyPolicy`]): the fallback is skipped once a delivery is known; a
//!   second variant is skipped once one was sent; nothing is sent while a shipment exception
//!   is open (deferred a day at a time until the survey would close), while an earlier
//!   complaint from the customer is open, or within the cool-down since their last survey;
//!   a reminder goes only if its own invitation went out and is unanswered.
//! - **Undelivered invitations** ([`FeedbackFlow::on_undelivered`]): an invitation the
//!   provider reports undelivered is sent once on the next survey channel not yet tried,
//!   with the same link; its reminder, if not sent yet, follows it there.
//! - **Replies** ([`FeedbackFlow::on_reply`]): a reply to an SMS or WhatsApp invitation
//!   becomes a score ([`crate::reply::parse_score`], or a button payload `score:N`);
//!   anything else gets one polite re-ask; a reply holding two numbers ("3 or 4", "1 0") is
//!   not scored either: it is kept as a comment and the customer is asked once, per
//!   invitation, to answer with one number (`survey-clarify`); after the survey closed,
//!   nothing is scored: the reply's text is kept as a comment
//!   ([`crate::store::SurveyStore::add_comment`]).
//! - **Follow-up** ([`FollowUp`]): a detractor (NPS 0-6, CSAT 1-2) alerts support by email
//!   and/or a signed webhook and tags the order and customer in the shop; a promoter can get
//!   a review request (a marketing message: it needs marketing consent, from the consent
//!   store or, with [`FollowUp::customers`], the platform). All idempotent, all ledgered.
//!   Answers on the survey page reach it through the inbox ([`AnswerQueue`]), so a failing
//!   shop API delays a follow-up and never loses it; replies already come through the inbox.
//! - **Report facts** ([`SurveyFacts`]): products, carrier, first delivery estimate and
//!   delivery time, kept per invitation (snapshot kind [`FACTS_SNAPSHOT`]) for breakdowns.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tracking::Renderer;
use crate::clock::Clock;
use crate::model::{ChannelKind, OrderId, SurveyKind};
use crate::platform::{CustomerDirectory, OrderSource};
use crate::store::{ConsentStore, Ledger, Outbox, SnapshotStore, SurveyStore};
use crate::token::TokenSigner;

mod answers;
mod follow_up;
mod history;
mod invite;
mod policy;
mod replies;

pub use answers::{ANSWER_SOURCE, AnswerQueue, AnswerSource};
pub use follow_up::{AnswerHook, FollowUp, FollowUpSettings, is_promoter};
pub use history::{CUSTOMER_ORDERS_SNAPSHOT, remember_order, remember_shipment};
pub use policy::SurveyPolicy;

/// Message meta keys of survey messages.
pub mod meta {
    /// The invitation a message belongs to.
    pub const INVITATION: &str = "survey_invitation";
    /// `after_delivery`, `after_shipping`, `reminder`, `reask`, `clarify`, `thanks`.
    pub const ROLE: &str = "survey_role";
    /// On a reminder: the role of the invitation it follows (`after_delivery`,
    /// `after_shipping`).
    pub const REMINDS: &str = "survey_reminds";
    /// On an after-shipping fallback not saved yet: the invitation (JSON), saved by
    /// [`SurveyPolicy`](super::SurveyPolicy) when the fallback is sent.
    pub const PENDING_INVITATION: &str = "survey_pending_invitation";
}

/// Settings of one survey.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SurveySettings {
    /// What is asked.
    pub kind: SurveyKind,
    /// Days after delivery to ask.
    pub days_after_delivery: u32,
    /// Days after shipping to ask when no delivery event ever comes.
    pub days_after_shipping: u32,
    /// Days after the invitation for the one reminder; `None` for no reminder.
    pub reminder_after_days: Option<u32>,
    /// Days the survey stays open after it is sent.
    pub open_days: u32,
    /// Days after a survey before the same customer is asked again.
    pub cooldown_days: u32,
    /// Days a detractor answer counts as an open complaint.
    pub complaint_days: u32,
    /// Channel preference, first reachable wins (what each channel needs:
    /// [`TrackingSettings::channels`](crate::flows::tracking::TrackingSettings::channels)).
    pub channels: Vec<ChannelKind>,
    /// Locale when the customer's is unknown.
    pub default_locale: String,
    /// Aftercare's public base URL, for the survey links.
    pub public_url: String,
    /// SMS and WhatsApp invitations carry a 16-character short link id instead of the
    /// signed token ([`crate::links`]); the survey page must be given the same store
    /// ([`SurveyPage::short_links`](crate::http::survey::SurveyPage::short_links)).
    #[serde(default)]
    pub short_links: bool,
}

impl Default for SurveySettings {
    fn default() -> Self {
        Self {
            kind: SurveyKind::Nps,
            days_after_delivery: 3,
            days_after_shipping: 14,
            reminder_after_days: Some(3),
            open_days: 14,
            cooldown_days: 90,
            complaint_days: 30,
            channels: vec![ChannelKind::Email, ChannelKind::Whatsapp, ChannelKind::Sms],
            default_locale: "en".into(),
            public_url: "http://127.0.0.1:8080".into(),
            short_links: false,
        }
    }
}

fn days(n: u32) -> chrono::Duration {
    chrono::Duration::days(i64::from(n))
}

/// What the flow stores: any [`Store`](crate::store::Store).
pub trait FeedbackStore: Outbox + Ledger + ConsentStore + SnapshotStore + SurveyStore {}
impl<T: Outbox + Ledger + ConsentStore + SnapshotStore + SurveyStore> FeedbackStore for T {}

/// The feedback flow.
pub struct FeedbackFlow {
    orders: Arc<dyn OrderSource>,
    customers: Arc<dyn CustomerDirectory>,
    outbox: Arc<dyn Outbox>,
    ledger: Arc<dyn Ledger>,
    consent: Arc<dyn ConsentStore>,
    surveys: Arc<dyn SurveyStore>,
    snapshots: Arc<dyn SnapshotStore>,
    renderer: Arc<dyn Renderer>,
    tokens: TokenSigner,
    clock: Arc<dyn Clock>,
    settings: SurveySettings,
    follow_up: Option<Arc<FollowUp>>,
}

impl std::fmt::Debug for FeedbackFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackFlow")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The invitation id for an order and survey kind: one per order and kind.
pub fn invitation_id(order: &OrderId, kind: SurveyKind) -> String {
    format!("{order}-{}", kind.as_str())
}

/// The snapshot kind under which [`SurveyFacts`] are kept, by invitation id.
pub const FACTS_SNAPSHOT: &str = "survey-facts";

/// What a report breaks an invitation's answer down by, saved when the survey is scheduled
/// (snapshot kind [`FACTS_SNAPSHOT`], id = the invitation id). Holds no personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SurveyFacts {
    /// The titles of the order's products.
    pub products: Vec<String>,
    /// The shipment's carrier.
    pub carrier: Option<String>,
    /// The order's number as the customer knows it (`#1001`).
    pub order_number: Option<String>,
    /// The first delivery estimate the carrier gave: the promise lateness is measured against.
    pub estimated_delivery: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The claims of a survey link (purpose `survey`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyClaims {
    /// Invitation id.
    pub i: String,
}
