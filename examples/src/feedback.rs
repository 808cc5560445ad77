//! The feedback-collection demo on embedded defaults, and the report joined from a store.
//!
//! [`load_report`] reads every answer in a period with the facts it is broken down by
//! (product, carrier and lateness from the survey's [`SurveyFacts`]) and builds a
//! [`Report`]; [`report_table`] prints it as a table. [`run`] is the demo story.
//!
//! One file past 800 lines: the demo is one story read top to bottom (the shop's history,
//! deliveries, invitations, answers, follow-ups, the report); its parts live in the sdk and
//! the sandbox.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::content::ContentMap;
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::feedback::{
    ANSWER_SOURCE, AnswerQueue, AnswerSource, FACTS_SNAPSHOT, FeedbackFlow, FollowUp,
    FollowUpSettings, SurveyFacts, SurveyPolicy, SurveySettings, invitation_id, meta,
};
use aftercare::flows::privacy::PrivacyHandler;
use aftercare::flows::replies::{ReplyAction, ReplyConfig, ReplyHandler};
use aftercare::flows::tracking::{Milestone, QuietHoursPolicy, TrackingFlow, TrackingSettings};
use aftercare::http::WebhookRoutes;
use aftercare::http::dashboard::{Dashboard, ReportSource};
use aftercare::http::retention::{RetentionSource as _, StoreRetention};
use aftercare::http::survey::SurveyPage;
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::l10n::{Catalogs, Localizer};
use aftercare::model::{
    ChannelKind, Consent, ConsentState, InboundMessage, OrderId, PlatformEvent, Purpose, SurveyKind,
};
use aftercare::report::{Fact, GroupScores, Report, lateness_bucket};
use aftercare::retention::{RetentionRecorder, RetentionReport, RetentionSettings};
use aftercare::store::{
    Decision, InboxEntry, Ledger, Outbox, OutboxStatus, SnapshotStore, SurveyStore,
};
use aftercare::token::TokenSigner;
use aftercare::webhook::{RawHeaders, Scheme, Secret, Verifier};
use aftercare_sandbox::{
    Annotation, CarrierScript, Delivery, Sandbox, SandboxHelpdesk, SimAddress, SimCustomer,
};
use aftercare_sqlite::SqliteStore;

pub use crate::platform::DemoPlatform;
use crate::platform::DemoShop;
use aftercare_webhook_out::WebhookOut;
use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Utc};

/// The most outbox rows [`load_report`] reads to count invitations.
const MAX_SENT: u32 = 1_000_000;

/// The report of the answers given between `from` and `to`, with the breakdowns `product`
/// (the order's first product), `carrier` and `lateness` (delivery against the carrier's
/// estimate); invitations are the survey invitations the outbox sent.
pub async fn load_report<S>(
    store: &S,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Report, aftercare::Error>
where
    S: SurveyStore + SnapshotStore + Outbox,
{
    let mut facts = Vec::new();
    for r in store.responses_between(from, to).await? {
        let mut fact = Fact::new(r.clone());
        if let Some(s) = store.snapshot(FACTS_SNAPSHOT, &r.invitation_id).await?
            && let Ok(f) = serde_json::from_value::<SurveyFacts>(s.data)
        {
            if let Some(p) = f.products.first() {
                fact.dims.insert("product".into(), p.clone());
            }
            if let Some(c) = f.carrier {
                fact.dims.insert("carrier".into(), c);
            }
            let bucket = match f.delivered_at {
                Some(at) => lateness_bucket(f.estimated_delivery, Some(at)),
                None => "not delivered",
            };
            fact.dims.insert("lateness".into(), bucket.into());
        }
        facts.push(fact);
    }
    let sent: Vec<_> = store
        .outbox_in(OutboxStatus::Sent, MAX_SENT)
        .await?
        .into_iter()
        .filter(|e| {
            matches!(
                e.message.meta.get(meta::ROLE).map(String::as_str),
                Some("after_delivery" | "after_shipping")
            )
        })
        .collect();
    let invitations = sent.len() as u64;
    // Repeat purchases: did invited customers order again after the invitation?
    let mut invited = Vec::new();
    let mut orders = std::collections::HashMap::new();
    for e in &sent {
        let (Some(customer), Some(inv)) = (
            e.message.customer_id.as_ref(),
            e.message.meta.get(meta::INVITATION),
        ) else {
            continue;
        };
        let at = e.receipt.as_ref().map_or(e.due_at, |r| r.accepted_at);
        let answered = store.response(inv).await?.is_some();
        let order = e
            .message
            .order_id
            .as_ref()
            .map(|o| o.0.clone())
            .unwrap_or_default();
        invited.push((customer.0.clone(), at, order, answered));
        if !orders.contains_key(&customer.0)
            && let Some(s) = store
                .snapshot(
                    aftercare::flows::feedback::CUSTOMER_ORDERS_SNAPSHOT,
                    customer.as_str(),
                )
                .await?
        {
            let list: Vec<(String, DateTime<Utc>)> =
                serde_json::from_value(s.data).unwrap_or_default();
            orders.insert(customer.0.clone(), list);
        }
    }
    Ok(Report::build(&facts, invitations)
        .with_repeat_purchase(aftercare::report::RepeatPurchase::count(&invited, &orders)))
}

fn cells(g: &GroupScores) -> String {
    let nps = g.nps.as_ref().map_or_else(
        || format!("{:>7}", "-"),
        |n| {
            format!(
                "{:>7.1} ± {:<5.1}(n={})",
                n.nps, n.margin_of_error, n.responses
            )
        },
    );
    let csat = g.csat.as_ref().map_or_else(
        || "-".to_owned(),
        |c| {
            format!(
                "{:.1}% ± {:.1} (n={})",
                c.csat, c.margin_of_error, c.responses
            )
        },
    );
    format!("{nps:<26} {csat}")
}

/// The report as a text table.
pub fn report_table(r: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Invitations sent: {}   answers: {}   response rate: {:.1}%\n",
        r.invitations, r.responses, r.response_rate
    ));
    if let Some(rp) = &r.repeat_purchase {
        let pct = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |p| format!("{p:.0}%"));
        out.push_str(&format!(
            "Bought again after the survey: respondents {} ({}/{}), non-respondents {} ({}/{})\n",
            pct(rp.respondents_rate()),
            rp.respondents_repeat,
            rp.respondents,
            pct(rp.non_respondents_rate()),
            rp.non_respondents_repeat,
            rp.non_respondents
        ));
    }
    out.push_str(&format!(
        "{:<34} {:<26} {}\n",
        "group", "NPS ± margin", "CSAT ± margin"
    ));
    out.push_str(&format!("{:<34} {}\n", "overall", cells(&r.overall)));
    for (w, g) in &r.weekly {
        out.push_str(&format!("{:<34} {}\n", format!("week of {w}"), cells(g)));
    }
    for (d, m) in &r.breakdowns {
        for (k, g) in m {
            let label: String = format!("{d}: {k}").chars().take(34).collect();
            out.push_str(&format!("{label:<34} {}\n", cells(g)));
        }
    }
    let dist: Vec<String> = r
        .nps_distribution
        .iter()
        .enumerate()
        .map(|(s, n)| format!("{s}:{n}"))
        .collect();
    out.push_str(&format!("NPS distribution: {}\n", dist.join(" ")));
    let dist: Vec<String> = r
        .csat_distribution
        .iter()
        .enumerate()
        .map(|(s, n)| format!("{}:{n}", s + 1))
        .collect();
    out.push_str(&format!("CSAT distribution: {}\n", dist.join(" ")));
    out
}

/// Options of the demo.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The platform the sandbox plays.
    pub platform: DemoPlatform,
    /// The SQLite file (recreated).
    pub db: PathBuf,
    /// Where to serve the webhook endpoint, the survey page and the dashboard.
    pub bind: SocketAddr,
    /// Keep serving after the story, until Ctrl-C.
    pub serve: bool,
}

/// The demo's app secret: the sandbox signs with it, the Shopify source verifies with it.
pub const DEMO_APP_SECRET: &str = "shpss_aftercare_feedback_demo";
const DEMO_SURVEY_KEY: &str = "aftercare-demo-survey-key";
const DEMO_LINK_KEY: &str = "aftercare-demo-link-key";
/// The demo dashboard's key.
pub const DEMO_DASHBOARD_KEY: &str = "demo-dashboard-key";
/// The demo helpdesk's Standard Webhooks secret.
const DEMO_HELPDESK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The sandbox shop's domain (every demo order is this shop's).
pub const DEMO_SHOP: &str = "sandbox-demo.myshopify.com";
/// The simulated history: seed, customers, months.
const HISTORY: (u64, u32, u32) = (18, 360, 8);
/// The story's clock moves on in quarter days, so a message held back by quiet hours
/// goes out soon after the customer's morning begins, whatever their zone.
const STEP: chrono::Duration = chrono::Duration::hours(6);
const STEPS_PER_DAY: u32 = 4;
/// Days a demo survey stays open: longer than the story, so every printed link works.
const DEMO_OPEN_DAYS: u32 = 120;
/// Days after shipping the demo asks on a platform without delivery events.
const FALLBACK_DAYS: u32 = 7;
const SUPPORT_EMAIL: &str = "support@sandbox-coffee.example";
const REVIEW_URL: &str = "https://reviews.example/sandbox-coffee";
const DETRACTOR_TAG: &str = "unhappy-customer";

fn say(line: &str) {
    println!("{}", crate::cli::heading(line));
}

/// The report over the whole store, for the dashboard.
pub struct StoreReport<S>(pub Arc<S>);

#[async_trait]
impl<S> ReportSource for StoreReport<S>
where
    S: SurveyStore + SnapshotStore + Outbox + Send + Sync + 'static,
{
    async fn report(&self) -> Result<Report, aftercare::Error> {
        load_report(
            self.0.as_ref(),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        )
        .await
    }
}

/// The demo's own helpdesk: verifies the Standard Webhooks signature and prints the alert.
async fn helpdesk(
    State(verifier): State<Arc<Verifier>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut raw = RawHeaders::new();
    for (k, v) in &headers {
        raw.insert(k.as_str(), v.as_bytes());
    }
    match verifier.verify(&raw, &body, Utc::now()) {
        Ok(_) => {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            println!(
                "   helpdesk ← signed webhook verified: {} for order {} (score {})",
                v["type"].as_str().unwrap_or("?"),
                v["data"]["order_number"].as_str().unwrap_or("?"),
                v["data"]["score"]
            );
            StatusCode::NO_CONTENT
        }
        Err(e) => {
            println!("   helpdesk ← rejected a webhook: {e}");
            StatusCode::UNAUTHORIZED
        }
    }
}

/// Half the orders are asked NPS, the other half CSAT (by the order id's parity), like a
/// shop trying both questions.
struct Split {
    nps: Arc<FeedbackFlow>,
    csat: Arc<FeedbackFlow>,
}

impl Split {
    fn kind_for(order: &OrderId) -> SurveyKind {
        let even = order
            .as_str()
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_digit() && (b - b'0').is_multiple_of(2));
        if even {
            SurveyKind::Csat
        } else {
            SurveyKind::Nps
        }
    }
}

#[async_trait]
impl EventHandler for Split {
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        for e in events {
            match e {
                PlatformEvent::ShipmentCreated { shipment }
                | PlatformEvent::ShipmentUpdated { shipment } => {
                    let flow = match Self::kind_for(&shipment.order_id) {
                        SurveyKind::Csat => &self.csat,
                        _ => &self.nps,
                    };
                    flow.on_shipment(&shipment).await?;
                }
                // Orders are remembered (for repeat purchases) by either flow.
                other => self.nps.handle(entry, vec![other]).await?,
            }
        }
        Ok(())
    }
}

/// How a demo customer answers.
enum Answer {
    /// On the survey page: a POST.
    Web(u8, Option<&'static str>),
    /// One-click from the email: a GET with the score chosen, then the POST confirming it.
    OneClick(u8),
    /// Replies, in order.
    Replies(&'static [&'static str]),
    /// No answer.
    None,
}

/// Runs the story.
pub async fn run(opts: DemoOptions) -> Result<(), Box<dyn std::error::Error>> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", opts.db.display()));
    }
    let store = SqliteStore::open(&opts.db).await?;
    let shared = Arc::new(store.clone());
    let start = "2026-03-02T06:00:00Z".parse()?;
    let sb = Sandbox::console(Secret::from(DEMO_APP_SECRET), start);
    let clock: Arc<ManualClock> = sb.clock.clone();
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let text = Arc::new(Catalogs::new("Sandbox Coffee Co."));

    let listener = crate::cli::listen(opts.bind, "--bind").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let survey_tokens = TokenSigner::new(Secret::from(DEMO_SURVEY_KEY), "survey");
    let mut survey = SurveySettings::default();
    if !opts.platform.reports_carrier_events() {
        // No delivery event will come: the shop asks a week after shipping (the fallback).
        survey.days_after_shipping = FALLBACK_DAYS;
    }
    survey.channels = vec![ChannelKind::Whatsapp, ChannelKind::Sms, ChannelKind::Email];
    survey.public_url.clone_from(&base);
    survey.short_links = true;
    // The story moves the demo's clock on by about ten weeks; the links it prints stay open
    // until the end, so with --serve every one of them still answers.
    survey.open_days = DEMO_OPEN_DAYS;
    let mut tracking_settings = TrackingSettings::default();
    tracking_settings.public_url.clone_from(&base);
    // Only the delivery message, so the story stays readable.
    tracking_settings.milestones = vec![Milestone::Delivered];
    let mut fu = FollowUpSettings::default();
    fu.support_email = Some(SUPPORT_EMAIL.into());
    fu.webhook_url = Some(format!("{base}/demo/helpdesk"));
    fu.detractor_tag = Some(DETRACTOR_TAG.into());
    fu.review_url = Some(REVIEW_URL.into());
    // The support desk, in memory: detractors and late-delivery complaints open one ticket
    // per order there (no account needed), later replies are notes on it.
    let desk = SandboxHelpdesk::console();
    let tickets = Arc::new(aftercare::flows::tickets::TicketFlow::new(
        Arc::new(desk.clone()),
        shared.clone(),
        dyn_clock.clone(),
    ));
    // Service recovery: a delivery exception, a failed attempt, a delay, a detractor's
    // answer or a complaint reply gets an apology (once per order) with a code from the
    // sandbox shop's discounts for a customer who opted in to marketing, and an order tag.
    // Detractors and complaint replies reach it through the follow-up.
    let discounts = Arc::new(aftercare_sandbox::SandboxDiscounts::new());
    let recovery = Arc::new(
        aftercare::flows::recovery::RecoveryFlow::new(
            shared.clone(),
            sb.shop.clone(),
            sb.shop.clone(),
            text.clone(),
            dyn_clock.clone(),
            Secret::from(DEMO_LINK_KEY),
        )
        .with_discounts(discounts.clone())
        .with_annotator(sb.shop.clone())
        .with_retention(shared.clone())
        .with_settings(
            aftercare::flows::recovery::RecoverySettings::default().with_offer(Some(
                aftercare::flows::recovery::DiscountOffer::new(
                    aftercare::platform::discount::DiscountValue::Percent(15),
                ),
            )),
        ),
    );
    let follow_up = Arc::new(
        FollowUp::new(
            shared.clone(),
            sb.shop.clone(),
            text.clone(),
            dyn_clock.clone(),
            fu,
        )
        .customers(sb.shop.clone())
        .tickets(tickets)
        .retention(RetentionRecorder::new(shared.clone()))
        .recovery(recovery.clone()),
    );
    let flow = |settings: SurveySettings| {
        Arc::new(
            FeedbackFlow::new(
                sb.shop.clone(),
                sb.shop.clone(),
                shared.clone(),
                text.clone(),
                survey_tokens.clone(),
                dyn_clock.clone(),
                settings,
            )
            .follow_up(follow_up.clone()),
        )
    };
    let mut csat = survey.clone();
    csat.kind = SurveyKind::Csat;
    let split = Arc::new(Split {
        nps: flow(survey.clone()),
        csat: flow(csat),
    });
    // Replies find their invitation (and its kind) in the store: either flow reads them.
    let feedback = split.nps.clone();
    let tracking = Arc::new(TrackingFlow::new(
        sb.shop.clone(),
        sb.shop.clone(),
        shared.clone(),
        text.clone(),
        ContentMap::default(),
        TokenSigner::new(Secret::from(DEMO_LINK_KEY), "tracking"),
        dyn_clock.clone(),
        tracking_settings,
    ));
    let demo = DemoShop::new(opts.platform, DEMO_APP_SECRET, sb.shop.domain())?;
    let name = demo.name();
    // Answers from the survey page wait in the inbox for their follow-up (AnswerQueue), so a
    // follow-up that fails is retried like a webhook.
    let handler = Chain::new()
        .then(Arc::new(
            PrivacyHandler::new(shared.clone()).clock(dyn_clock.clone()),
        ))
        .then(tracking)
        .then(split)
        .then(follow_up.clone())
        .then(Arc::new(RetentionRecorder::new(shared.clone())))
        .then(recovery.clone());
    let processor = InboxProcessor::new(shared.clone(), Arc::new(handler), dyn_clock.clone())
        .source(name, demo.source())
        .source(ANSWER_SOURCE, Arc::new(AnswerSource));
    let processor = demo.hydrate(processor, &base)?;
    let helpdesk_secret = Secret::from_standard_webhooks(DEMO_HELPDESK_SECRET)
        .map_err(|e| format!("the demo helpdesk secret: {e}"))?;
    // Quiet hours as the `Stack` builder has them by default: nothing arrives at night in
    // the customer's zone (21:00 to 08:00); a message due then waits for the morning.
    let (quiet_start, quiet_end) = aftercare::stack::DEFAULT_QUIET_HOURS;
    let mut dispatcher = Dispatcher::new(shared.clone(), dyn_clock.clone())
        .consent_store(shared.clone())
        .policy(Arc::new(QuietHoursPolicy::new(
            quiet_start,
            quiet_end,
            chrono_tz::UTC,
        )))
        .policy(Arc::new(SurveyPolicy::new(shared.clone(), survey)))
        .channel(Arc::new(WebhookOut::new(helpdesk_secret.clone())?));
    for ch in sb.channels() {
        dispatcher = dispatcher.channel(ch);
    }
    let replies = ReplyHandler::new(
        shared.clone(),
        shared.clone(),
        Arc::new(Localizer::new()),
        dyn_clock.clone(),
        ReplyConfig::new("Sandbox Coffee Co.", "https://example.com/help"),
    );
    let helpdesk_router = Router::new()
        .route("/demo/helpdesk", post(helpdesk))
        .with_state(Arc::new(Verifier::new(
            Scheme::StandardWebhooks,
            helpdesk_secret,
        )));
    let app = WebhookRoutes::new(shared.clone(), dyn_clock.clone())
        .source(name, demo.source())
        .into_router()
        .merge(
            SurveyPage::new(
                shared.clone(),
                survey_tokens,
                text.clone(),
                dyn_clock.clone(),
            )
            .on_answer(Arc::new(AnswerQueue::new(
                shared.clone(),
                dyn_clock.clone(),
            )))
            .short_links(shared.clone())
            .into_router(),
        )
        .merge(
            Dashboard::new(
                Arc::new(StoreReport(shared.clone())),
                text.clone(),
                Secret::from(DEMO_DASHBOARD_KEY),
                "en",
            )
            .with_retention(Arc::new(retention_source(
                shared.clone(),
                dyn_clock.clone(),
            )))
            .with_comments(Arc::new(aftercare::http::comments::StoreComments::new(
                shared.clone(),
                dyn_clock.clone(),
            )))
            .into_router(),
        )
        .merge(helpdesk_router)
        .merge(demo.api_router(sb.shop.clone()));
    let server = tokio::spawn(aftercare::http::serve(
        listener,
        app,
        aftercare::http::ServeOptions::default(),
    ));
    let hook_url = format!("{base}/webhooks/{name}");
    let http = reqwest::Client::new();
    println!(
        "Aftercare feedback demo: sandbox shop on {}, SQLite at {}, console channels, pages on {base}",
        opts.platform.title(),
        opts.db.display()
    );
    if !opts.platform.reports_carrier_events() {
        println!(
            "   {} reports no carrier events: no survey after delivery; each survey is the fallback invitation, {FALLBACK_DAYS} days after shipping.",
            opts.platform.title()
        );
    }

    say("History");
    let history = aftercare_sandbox::history::SimHistory::generate(
        sb.shop.domain(),
        HISTORY.0,
        HISTORY.1,
        HISTORY.2,
        start,
    );
    let recorder = RetentionRecorder::new(shared.clone());
    let backfilled = recorder
        .backfill(&history, start - chrono::Duration::days(400))
        .await?;
    for a in history.answers() {
        recorder
            .record_answer(Some(&sb.shop.domain().into()), a)
            .await?;
    }
    // The history's early signs and the recoveries the shop made then.
    for (order, recovered) in history.recoveries() {
        use aftercare::retention::RetentionStore as _;
        let mut e = std::collections::BTreeMap::from([("signal".to_owned(), "yes".to_owned())]);
        if *recovered {
            e.insert("recovered".into(), "yes".into());
        }
        shared
            .set_experience(Some(&sb.shop.domain().into()), order, &e)
            .await?;
    }
    println!(
        "   backfilled {backfilled} orders of {} customers over {} months (seed {}) and {} past NPS answers",
        HISTORY.1,
        HISTORY.2,
        HISTORY.0,
        history.answers().len()
    );

    let settle = || async {
        processor.drain().await?;
        dispatcher.drain().await?;
        Ok::<_, aftercare::Error>(())
    };
    let post_all = |ds: Vec<Delivery>| {
        let sender = sb.sender.clone();
        let url = hook_url.clone();
        let ds = demo.translate(&sb.shop, ds);
        async move {
            for d in &ds {
                let code = sender.post(&url, d).await?;
                if code != 200 {
                    return Err(format!("the webhook endpoint answered HTTP {code}").into());
                }
            }
            Ok::<_, Box<dyn std::error::Error>>(())
        }
    };

    // Who prefers which channel for surveys (WhatsApp first, then SMS, then email).
    let prefer = |locale: &str, denied: &[ChannelKind]| -> Result<(), Box<dyn std::error::Error>> {
        let id = sb
            .shop
            .customer_by_locale(locale)
            .ok_or_else(|| format!("no demo customer for {locale}"))?;
        sb.shop.update_customer(id, |c| {
            for ch in denied {
                c.consents
                    .push(Consent::new(Purpose::Feedback, *ch, ConsentState::Denied));
            }
        })?;
        Ok(())
    };
    prefer("ar-SA", &[ChannelKind::Whatsapp])?;
    prefer("tr-TR", &[ChannelKind::Whatsapp, ChannelKind::Sms])?;
    prefer("pt-BR", &[ChannelKind::Whatsapp, ChannelKind::Sms])?;
    prefer("en-US", &[ChannelKind::Whatsapp])?;
    // A second Thai customer (locale `th`), who answers with Thai digits.
    let mut kanda = SimCustomer::new("กานดา", "ศรีสุข", "th");
    kanda.phone = Some("+66898765432".into());
    kanda.email = Some("kanda.s@example.co.th".into());
    kanda.time_zone = Some("Asia/Bangkok".into());
    kanda.preferred_carrier = Some("thailand_post".into());
    let mut address = SimAddress::new("12 ถนนนิมมานเหมินท์", "เชียงใหม่", "Thailand", "TH");
    address.zip = Some("50200".into());
    address.phone.clone_from(&kanda.phone);
    kanda.address = address;
    for ch in [ChannelKind::Whatsapp, ChannelKind::Sms, ChannelKind::Email] {
        for purpose in [Purpose::Transactional, Purpose::Feedback] {
            kanda
                .consents
                .push(Consent::new(purpose, ch, ConsentState::Granted));
        }
    }
    sb.shop.add_customer(kanda);

    let story: Vec<(&str, CarrierScript, Answer, &str)> = vec![
        (
            "ar-SA",
            CarrierScript::happy_path(),
            Answer::Replies(&["٩ شكراً"]),
            "ar-SA by SMS, answers with Arabic-Indic digits",
        ),
        (
            "tr-TR",
            CarrierScript::delayed(),
            Answer::Web(2, Some("Kargo geç geldi")),
            "tr-TR by email (CSAT), a late parcel, answers on the survey page",
        ),
        (
            "th-TH",
            CarrierScript::happy_path(),
            Answer::Replies(&["ก็ดีนะ", "แปด"]),
            "th-TH by WhatsApp, an unclear reply (one re-ask), then a Thai number word",
        ),
        (
            "pt-BR",
            CarrierScript::happy_path(),
            Answer::OneClick(5),
            "pt-BR by email (CSAT), one-click answer (GET shows, POST confirms)",
        ),
        (
            "es-MX",
            CarrierScript::failed_attempt_then_redelivery(),
            Answer::Replies(&["tres, la cafetera llegó rota", "y la caja venía abierta"]),
            "es-MX by WhatsApp, a failed attempt, answers in Spanish words, then writes again",
        ),
        (
            "en-US",
            CarrierScript::happy_path(),
            Answer::None,
            "en-US by email (CSAT), never answers (one reminder)",
        ),
        (
            "th",
            CarrierScript::happy_path(),
            Answer::Replies(&["๑๐ ชอบมาก"]),
            "th (a second Thai customer) by WhatsApp, answers with Thai digits",
        ),
        (
            "th-TH",
            CarrierScript::happy_path(),
            Answer::None,
            "th-TH again: a second order inside the cool-down, not surveyed",
        ),
    ];

    let mut invitations = Vec::new();
    let mut story_orders = Vec::new();
    for (locale, script, answer, label) in story {
        say(label);
        let shipped = sb.ship(locale)?;
        story_orders.push((locale, OrderId::new(shipped.order.to_string())));
        post_all(shipped.deliveries.clone()).await?;
        settle().await?;
        let mut scenario = sb
            .scenario(shipped.fulfillment, script)
            .with_fulfillment_events();
        while let Some(step) = scenario.next_step()? {
            post_all(step.deliveries.clone()).await?;
            settle().await?;
        }
        let order = OrderId::new(shipped.order.to_string());
        let id = invitation_id(&order, Split::kind_for(&order));
        let role = if opts.platform.reports_carrier_events() {
            println!(
                "   {} carrier: delivered; the survey is due in 3 days",
                clock.now().format("%a %d %b %H:%M UTC")
            );
            for _ in 0..4 * STEPS_PER_DAY {
                clock.advance(STEP);
                settle().await?;
            }
            "after_delivery"
        } else {
            println!(
                "   {} carrier: delivered, but {} sends no delivery event; the fallback invitation is due {FALLBACK_DAYS} days after shipping",
                clock.now().format("%a %d %b %H:%M UTC"),
                opts.platform.title()
            );
            // Day by day until the fallback goes out (or is skipped), so answers come
            // before the reminder as on Shopify.
            for _ in 0..=FALLBACK_DAYS * STEPS_PER_DAY {
                clock.advance(STEP);
                settle().await?;
                if store
                    .outbox_by_key(&format!("survey:{id}:after_shipping"))
                    .await?
                    .is_some_and(|e| e.status == OutboxStatus::Sent)
                {
                    println!(
                        "   {}: the fallback invitation went out",
                        clock.now().format("%a %d %b %H:%M UTC")
                    );
                    break;
                }
            }
            "after_shipping"
        };
        let invitation = store.invitation(&id).await?;
        let invited = store
            .outbox_by_key(&format!("survey:{id}:{role}"))
            .await?
            .filter(|e| e.status == OutboxStatus::Sent);
        let (Some(inv), Some(_)) = (invitation, invited) else {
            for r in store.ledger_for_order(&order).await? {
                if r.decision == Decision::Skipped
                    && r.key.as_deref().is_some_and(|k| {
                        // A reminder goes only with its invitation: the invitation's line says why.
                        k.starts_with("survey:") && !k.contains(":reminder")
                    })
                    && !r.reason.contains("already queued")
                {
                    println!("   not surveyed: {}", r.reason);
                }
            }
            continue;
        };
        let link = feedback.survey_url(&inv, None);
        invitations.push(inv.clone());
        let phone = sb
            .shop
            .customer_record(shipped.customer)
            .and_then(|c| c.phone)
            .unwrap_or_default();
        match answer {
            Answer::Web(score, comment) => {
                let mut form = vec![("score", score.to_string())];
                if let Some(c) = comment {
                    form.push(("comment", c.to_owned()));
                }
                let status = http.post(&link).form(&form).send().await?.status();
                println!("   survey page ← POST score={score}: HTTP {status}");
            }
            Answer::OneClick(score) => {
                let status = http
                    .get(format!("{link}?score={score}"))
                    .send()
                    .await?
                    .status();
                let recorded = store.response(&inv.id).await?.is_some();
                println!(
                    "   survey page ← GET ?score={score}: HTTP {status}, recorded: {recorded}"
                );
                let status = http
                    .post(&link)
                    .form(&[("score", score.to_string())])
                    .send()
                    .await?
                    .status();
                println!("   survey page ← POST score={score}: HTTP {status}");
            }
            Answer::Replies(texts) => {
                for (i, t) in texts.iter().enumerate() {
                    if i > 0 {
                        // The customer writes again a little later.
                        clock.advance(chrono::Duration::minutes(2));
                    }
                    let msg =
                        InboundMessage::new(inv.channel, &phone, "+15550100", *t, clock.now());
                    let action = replies.handle(&msg, Some(&inv.locale)).await?;
                    let score = if action == ReplyAction::NotAKeyword {
                        feedback.on_reply(&msg).await?
                    } else {
                        None
                    };
                    println!(
                        "   {} ← reply “{t}”: {}",
                        inv.channel,
                        score.map_or_else(|| "no score".to_owned(), |s| format!("score {s}"))
                    );
                    settle().await?;
                }
            }
            Answer::None => {}
        }
        settle().await?;
        // Let reminders fall due (or be skipped once answered).
        for _ in 0..4 * STEPS_PER_DAY {
            clock.advance(STEP);
            settle().await?;
        }
    }

    say("Follow-ups");
    for a in sb.shop.annotations() {
        match a {
            Annotation::OrderTags { order, tags } => {
                println!("   shop: order {order} tagged {}", tags.join(", "));
            }
            Annotation::CustomerTags { customer, tags } => {
                println!("   shop: customer {customer} tagged {}", tags.join(", "));
            }
            _ => {}
        }
    }
    println!(
        "   support alerts: {}, review requests: {}, reminders: {}, re-asks: {}",
        sb.email.sent_to(SUPPORT_EMAIL).len(),
        count_role_text(&sb, REVIEW_URL),
        count_role(&store, "reminder").await?,
        count_role(&store, "reask").await?,
    );

    for (locale, order) in &story_orders {
        // The apology's key is in the order's ledger (`recovery:{shop}:{order}:apology`).
        let key = store
            .ledger_for_order(order)
            .await?
            .into_iter()
            .filter_map(|e| e.key)
            .find(|k| k.starts_with("recovery:") && k.ends_with(":apology"));
        let apology = match key {
            Some(k) => store.outbox_by_key(&k).await?,
            None => None,
        };
        if let Some(m) = apology {
            let code = m.message.meta.get("discount_code");
            let number = aftercare::platform::OrderSource::order(sb.shop.as_ref(), order)
                .await?
                .map_or_else(|| order.to_string(), |o| o.number);
            println!(
                "   recovery: {locale} order {number} ({order}): apology by {}{}",
                m.message.channel,
                code.map_or_else(
                    || " without a code (no marketing opt-in)".to_owned(),
                    |c| format!(" with the code {c} (made in the sandbox shop)")
                )
            );
        }
    }
    println!(
        "   discount codes made in the sandbox shop: {}",
        discounts.codes().len()
    );

    let open = desk.tickets();
    println!("   helpdesk (sandbox): {} ticket(s)", open.len());
    for t in &open {
        let tags: Vec<&str> = t
            .tags
            .iter()
            .map(String::as_str)
            .filter(|x| !x.starts_with("aftercare_"))
            .collect();
        println!(
            "     #{} “{}” for {} ({}), tags {}, {} note(s)",
            t.id,
            t.subject,
            t.requester.as_deref().unwrap_or("?"),
            t.locale.as_deref().unwrap_or("?"),
            tags.join(", "),
            t.notes.len()
        );
        for line in t.notes[0].lines() {
            println!("       {line}");
        }
    }

    say("Report");
    let report = load_report(&store, DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC).await?;
    print!("{}", report_table(&report));
    say("Retention");
    let retention = retention_source(shared.clone(), dyn_clock.clone())
        .retention()
        .await?;
    print!("{}", retention_table(&retention));
    println!(
        "\nDashboard: {base}/dashboard  (sign in with the key `{DEMO_DASHBOARD_KEY}`; CSV and JSON at /dashboard/report.csv and /dashboard/report.json with `Authorization: Bearer {DEMO_DASHBOARD_KEY}`)"
    );
    println!(
        "Retention: {base}/dashboard/retention (CSV and JSON at /dashboard/retention.csv and .json)"
    );
    println!(
        "Comments: {base}/dashboard/comments?q=late (every match as /dashboard/comments.csv?q=late and .json)"
    );
    println!(
        "Export later with: cargo run -p aftercare-examples --bin feedback -- report --db {} --csv report.csv --json report.json",
        opts.db.display()
    );
    if opts.serve {
        // Links that work now (the story's clock is weeks on from the first message).
        println!("Survey pages to try:");
        for inv in &invitations {
            let state = if clock.now() > inv.closes_at {
                "closed"
            } else if store.response(&inv.id).await?.is_some() {
                "answered"
            } else {
                "open"
            };
            println!(
                "   {} {:<6} {state:<8} {}",
                inv.kind.as_str(),
                inv.locale,
                feedback.survey_url(inv, None)
            );
        }
        println!("Serving the survey pages and the dashboard until Ctrl-C.");
        tokio::signal::ctrl_c().await?;
    } else {
        println!("(Add --serve to keep the pages and the dashboard up.)");
    }
    server.abort();
    store.close().await;
    Ok(())
}

fn count_role_text(sb: &Sandbox, needle: &str) -> usize {
    [ChannelKind::Email, ChannelKind::Sms, ChannelKind::Whatsapp]
        .into_iter()
        .flat_map(|k| sb.channel(k).sent())
        .filter(|m| m.text.contains(needle))
        .count()
}

async fn count_role(store: &SqliteStore, role: &str) -> Result<usize, aftercare::Error> {
    Ok(store
        .outbox_in(OutboxStatus::Sent, MAX_SENT)
        .await?
        .iter()
        .filter(|e| e.message.meta.get(meta::ROLE).map(String::as_str) == Some(role))
        .count())
}

/// The `report` subcommand: prints the table from an existing database and writes the CSV
/// and JSON exports where asked.
pub async fn report_command(
    db: &Path,
    csv: Option<&Path>,
    json: Option<&Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    if !db.exists() {
        return Err(format!("{} does not exist; run the demo first", db.display()).into());
    }
    let store = SqliteStore::open(db).await?;
    let report = load_report(&store, DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC).await;
    let shared = Arc::new(store.clone());
    let last = last_order_time(&shared).await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(last));
    let retention = retention_source(shared, clock).retention().await;
    store.close().await;
    write_report(&report?, csv, json)?;
    say("Retention");
    let retention = retention?;
    print!("{}", retention_table(&retention));
    if let Some(p) = csv {
        let p = p.with_extension("retention.csv");
        std::fs::write(&p, retention.to_csv())
            .map_err(|e| format!("could not write {}: {e}", p.display()))?;
        println!("Retention CSV written to {}", p.display());
    }
    if let Some(p) = json {
        let p = p.with_extension("retention.json");
        std::fs::write(&p, serde_json::to_string_pretty(&retention)?)
            .map_err(|e| format!("could not write {}: {e}", p.display()))?;
        println!("Retention JSON written to {}", p.display());
    }
    Ok(())
}

/// The demo shop's retention report from a store, as of the clock.
pub fn retention_source(store: Arc<SqliteStore>, clock: Arc<dyn Clock>) -> StoreRetention {
    StoreRetention::new(
        store,
        Some(DEMO_SHOP.into()),
        RetentionSettings::default(),
        clock,
    )
}

/// The latest first or last order time the retention store knows for the demo shop (the
/// report of a finished demo is as of its end, not of today); now when there is none.
async fn last_order_time(store: &Arc<SqliteStore>) -> DateTime<Utc> {
    use aftercare::retention::RetentionStore as _;
    store
        .retention_customers(Some(&DEMO_SHOP.into()))
        .await
        .ok()
        .and_then(|cs| cs.iter().map(|c| c.last_order_at).max())
        .unwrap_or_else(Utc::now)
}

/// The retention report as text: the headline figures, the comparisons in words, the
/// cohort curves.
pub fn retention_table(r: &RetentionReport) -> String {
    let mut out = format!(
        "   customers {}, {} ordered twice or more\n   re-ordered within {} days: {}\n",
        r.customers,
        r.repeat_customers,
        r.settings.repeat_window_days,
        r.repeat_rate.describe()
    );
    if let Some(d) = r.median_days_to_second {
        out.push_str(&format!("   median time to a second order: {d:.0} days\n"));
    }
    if let Some(c) = &r.churn {
        out.push_str(&format!(
            "   churned (no order for {:.0} days = {}× the median interval of {:.0} days): {}\n",
            c.threshold_days,
            r.settings.churn_multiple,
            c.median_interval_days,
            c.rate.describe()
        ));
    }
    if let Some(m) = r.breakdowns.get("lateness") {
        out.push_str("   repeat rate by lateness of the first delivery:\n");
        for (k, f) in m {
            out.push_str(&format!("     {k:<14} {}\n", f.describe()));
        }
    }
    if let Some(m) = r.breakdowns.get("recovery") {
        out.push_str("   repeat rate after a bad first delivery, by service recovery:\n");
        for (k, f) in m {
            out.push_str(&format!("     {k:<14} {}\n", f.describe()));
        }
    }
    // Every measured comparison, and recovered vs not even when too few to tell.
    for c in &r.comparisons {
        if c.difference.is_some() || c.dimension == "recovery" {
            out.push_str(&format!("   • {}\n", c.statement));
        }
    }
    out.push_str("   cohorts (share with a second order within 1..6 months):\n");
    for c in &r.cohorts {
        let pts: Vec<String> = c
            .curve
            .iter()
            .map(|p| p.map_or_else(|| "   -".to_owned(), |p| format!("{:>3.0}%", p.p * 100.0)))
            .collect();
        out.push_str(&format!(
            "     {} n={:<4} {}\n",
            c.month,
            c.customers,
            pts.join(" ")
        ));
    }
    out
}

/// `report --config FILE`: the report from the store the real-store configuration names
/// (SQLite or PostgreSQL).
pub async fn report_from_config(
    cfg: &crate::config::TrackingLinksConfig,
    csv: Option<&Path>,
    json: Option<&Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    use crate::real::StoreHandle;
    let (from, to) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    let report = crate::real::with_store(cfg, |h| async move {
        Ok(match h {
            StoreHandle::Sqlite(s) => load_report(s.as_ref(), from, to).await?,
            StoreHandle::Postgres(s) => load_report(s.as_ref(), from, to).await?,
        })
    })
    .await
    .map_err(|e| e.to_string())?;
    write_report(&report, csv, json)
}

fn write_report(
    report: &Report,
    csv: Option<&Path>,
    json: Option<&Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    print!("{}", report_table(report));
    if let Some(p) = csv {
        std::fs::write(p, report.to_csv())
            .map_err(|e| format!("could not write {}: {e}", p.display()))?;
        println!("CSV written to {}", p.display());
    }
    if let Some(p) = json {
        let body = serde_json::to_string_pretty(&report)?;
        std::fs::write(p, body).map_err(|e| format!("could not write {}: {e}", p.display()))?;
        println!("JSON written to {}", p.display());
    }
    Ok(())
}
