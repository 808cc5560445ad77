//! Feedback collection end to end, over real HTTP and real SQLite: the sandbox shop and
//! carrier post signed Shopify webhooks to the router, the Shopify source verifies them,
//! tracking and feedback flows schedule messages, the dispatcher (consent + survey policy)
//! sends them through recording channels and a signed-webhook channel to a local helpdesk
//! that verifies Standard Webhooks signatures; answers come through the survey page and
//! SMS/WhatsApp replies.
//!
//! One file past 800 lines: it is one story (delivery → invitation → answer → follow-up) told
//! over one shared world, whose helpers the scenarios reuse.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::delivery::{DeliveryReports, ReportOutcome};
use aftercare::flows::feedback::{
    FeedbackFlow, FollowUp, FollowUpSettings, SurveyPolicy, SurveySettings, meta,
};
use aftercare::flows::privacy::PrivacyHandler;
use aftercare::flows::tracking::{TrackingFlow, TrackingSettings};
use aftercare::http::WebhookRoutes;
use aftercare::http::survey::SurveyPage;
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::{
    ChannelKind, CustomerId, DeliveryStatus, InboundMessage, OrderId, SurveyResponse,
};
use aftercare::store::{Decision, Ledger, Outbox, SurveyComment, SurveyStore};
use aftercare::token::TokenSigner;
use aftercare::webhook::{RawHeaders, Scheme, Secret, Verifier};
use aftercare_sandbox::{
    Annotation, CarrierScript, Delivery, Milestone, Sandbox, SentMessage, Shipped,
};
use aftercare_shopify::ShopifyWebhooks;
use aftercare_sqlite::SqliteStore;
use aftercare_webhook_out::WebhookOut;
use chrono::{DateTime, Duration, Utc};

const APP_SECRET: &str = "shpss_feedback_e2e";
const HELPDESK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SUPPORT: &str = "support@sandbox-coffee.example";
const TAG: &str = "nps-detractor";
const REVIEW: &str = "https://reviews.example/sandbox-coffee";

/// What the local helpdesk received: every verified delivery (webhook-id, JSON), and the
/// number of rejected ones.
#[derive(Default)]
pub(crate) struct Helpdesk {
    received: Mutex<Vec<(String, serde_json::Value)>>,
    rejected: Mutex<u32>,
}

async fn helpdesk_server(helpdesk: Arc<Helpdesk>) -> String {
    use axum::http::{HeaderMap, StatusCode};
    let verifier = Arc::new(Verifier::new(
        Scheme::StandardWebhooks,
        Secret::from_standard_webhooks(HELPDESK_SECRET).unwrap(),
    ));
    let app = axum::Router::new().route(
        "/hooks/aftercare",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let verifier = verifier.clone();
            let helpdesk = helpdesk.clone();
            async move {
                let mut raw = RawHeaders::new();
                for (k, v) in &headers {
                    raw.insert(k.as_str(), v.as_bytes());
                }
                if verifier.verify(&raw, &body, Utc::now()).is_err() {
                    *helpdesk.rejected.lock().unwrap() += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                let id = raw.get_str("webhook-id").unwrap_or_default().to_owned();
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                // Every delivery is kept, duplicates too, so the test can count them.
                helpdesk.received.lock().unwrap().push((id, json));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hooks/aftercare")
}

pub(crate) struct World {
    pub(crate) sb: Sandbox,
    pub(crate) store: SqliteStore,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) hook_url: String,
    pub(crate) processor: InboxProcessor,
    pub(crate) dispatcher: Dispatcher,
    pub(crate) feedback: Arc<FeedbackFlow>,
    pub(crate) helpdesk: Arc<Helpdesk>,
    pub(crate) helpdesk_url: String,
    pub(crate) http: reqwest::Client,
    /// The support desk follow-up tickets go to (in memory).
    pub(crate) desk: aftercare_sandbox::SandboxHelpdesk,
    pub(crate) tickets: Arc<aftercare::flows::tickets::TicketFlow>,
}

pub(crate) async fn world(channels: Vec<ChannelKind>) -> World {
    world_with(channels, None).await
}

/// The world, with service recovery on the follow-up when `recovery` is given (its
/// tickets through the world's desk).
pub(crate) async fn world_with(
    channels: Vec<ChannelKind>,
    recovery: Option<aftercare::flows::recovery::RecoverySettings>,
) -> World {
    let store = SqliteStore::open_temporary().await.unwrap();
    let sb = Sandbox::quiet(
        Secret::from(APP_SECRET),
        "2026-03-02T06:00:00Z".parse().unwrap(),
    );
    let clock = sb.clock.clone();
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let text = Arc::new(Catalogs::new("Sandbox Coffee Co."));
    let helpdesk = Arc::new(Helpdesk::default());
    let helpdesk_url = helpdesk_server(helpdesk.clone()).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let survey_tokens = TokenSigner::new(Secret::from("survey-key-e2e"), "survey");
    let mut survey = SurveySettings::default();
    survey.channels = channels;
    survey.public_url.clone_from(&base);
    let mut tracking_settings = TrackingSettings::default();
    tracking_settings.public_url.clone_from(&base);
    let shared = Arc::new(store.clone());

    let mut fu = FollowUpSettings::default();
    fu.support_email = Some(SUPPORT.into());
    fu.webhook_url = Some(helpdesk_url.clone());
    fu.detractor_tag = Some(TAG.into());
    fu.review_url = Some(REVIEW.into());
    let desk = aftercare_sandbox::SandboxHelpdesk::new();
    let tickets = Arc::new(aftercare::flows::tickets::TicketFlow::new(
        Arc::new(desk.clone()),
        shared.clone(),
        dyn_clock.clone(),
    ));
    let mut follow_up = FollowUp::new(
        shared.clone(),
        sb.shop.clone(),
        text.clone(),
        dyn_clock.clone(),
        fu,
    )
    .customers(sb.shop.clone())
    .tickets(tickets.clone());
    if let Some(settings) = recovery {
        follow_up = follow_up.recovery(Arc::new(
            aftercare::flows::recovery::RecoveryFlow::new(
                shared.clone(),
                sb.shop.clone(),
                sb.shop.clone(),
                text.clone(),
                dyn_clock.clone(),
                Secret::from("recovery-code-key"),
            )
            .with_tickets(tickets.clone())
            .with_settings(settings),
        ));
    }
    let follow_up = Arc::new(follow_up);
    let feedback = Arc::new(
        FeedbackFlow::new(
            sb.shop.clone(),
            sb.shop.clone(),
            shared.clone(),
            text.clone(),
            survey_tokens.clone(),
            dyn_clock.clone(),
            survey.clone(),
        )
        .follow_up(follow_up.clone()),
    );
    let tracking = Arc::new(TrackingFlow::new(
        sb.shop.clone(),
        sb.shop.clone(),
        shared.clone(),
        text.clone(),
        Default::default(),
        TokenSigner::new(Secret::from("link-key-e2e"), "tracking"),
        dyn_clock.clone(),
        tracking_settings,
    ));
    let shopify =
        Arc::new(ShopifyWebhooks::new(Secret::from(APP_SECRET)).for_shop(sb.shop.domain()));
    let handler = Chain::new()
        .then(Arc::new(
            PrivacyHandler::new(shared.clone()).clock(dyn_clock.clone()),
        ))
        .then(tracking)
        .then(feedback.clone());
    let processor = InboxProcessor::new(shared.clone(), Arc::new(handler), dyn_clock.clone())
        .source("shopify", shopify.clone());
    let mut dispatcher = Dispatcher::new(shared.clone(), dyn_clock.clone())
        .consent_store(shared.clone())
        .policy(Arc::new(SurveyPolicy::new(shared.clone(), survey)))
        .channel(Arc::new(
            WebhookOut::new(Secret::from_standard_webhooks(HELPDESK_SECRET).unwrap()).unwrap(),
        ));
    for ch in sb.channels() {
        dispatcher = dispatcher.channel(ch);
    }
    let app = WebhookRoutes::new(shared.clone(), dyn_clock.clone())
        .source("shopify", shopify)
        .into_router()
        .merge(
            SurveyPage::new(shared.clone(), survey_tokens, text, dyn_clock)
                .on_answer(follow_up)
                .into_router(),
        );
    tokio::spawn(aftercare::http::serve(
        listener,
        app,
        aftercare::http::ServeOptions::default(),
    ));
    World {
        sb,
        store,
        clock,
        hook_url: format!("{base}/webhooks/shopify"),
        processor,
        dispatcher,
        feedback,
        helpdesk,
        helpdesk_url,
        http: reqwest::Client::new(),
        desk,
        tickets,
    }
}

impl World {
    pub(crate) async fn settle(&self) {
        self.processor.drain().await.unwrap();
        self.dispatcher.drain().await.unwrap();
    }

    async fn post(&self, deliveries: &[Delivery]) {
        for d in deliveries {
            let code = self.sb.sender.post(&self.hook_url, d).await.unwrap();
            assert_eq!(code, 200, "the router accepts the sandbox's signed webhook");
        }
    }

    pub(crate) async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.settle().await;
    }

    async fn play(&self, fulfillment: u64, script: CarrierScript) -> DateTime<Utc> {
        let mut scenario = self
            .sb
            .scenario(fulfillment, script)
            .with_fulfillment_events();
        let mut last = self.clock.now();
        while let Some(step) = scenario.next_step().unwrap() {
            self.post(&step.deliveries).await;
            self.settle().await;
            last = step.at;
        }
        last
    }

    /// Ships an order for the customer with `locale` and plays `script`; returns the order
    /// and the time of the last step (the delivery, on a delivering script).
    pub(crate) async fn ship(
        &self,
        locale: &str,
        script: CarrierScript,
    ) -> (Shipped, DateTime<Utc>) {
        let shipped = self.sb.ship(locale).unwrap();
        self.post(&shipped.deliveries).await;
        self.settle().await;
        let at = self.play(shipped.fulfillment, script).await;
        (shipped, at)
    }

    /// Survey messages of a role sent on any channel, for an order.
    pub(crate) fn survey_sent(&self, order: u64, role: &str) -> Vec<SentMessage> {
        [ChannelKind::Email, ChannelKind::Sms, ChannelKind::Whatsapp]
            .into_iter()
            .flat_map(|k| self.sb.channel(k).sent())
            .filter(|m| {
                m.message.order_id == Some(OrderId::new(order.to_string()))
                    && m.message.meta.get(meta::ROLE).map(String::as_str) == Some(role)
            })
            .collect()
    }

    pub(crate) async fn response(&self, order: u64) -> Option<SurveyResponse> {
        self.store.response(&format!("{order}-nps")).await.unwrap()
    }

    pub(crate) async fn reply(
        &self,
        channel: ChannelKind,
        from: &str,
        text: &str,
        button: Option<&str>,
    ) -> Option<u8> {
        let mut m = InboundMessage::new(channel, from, "+15550000000", text, self.clock.now());
        m.button_payload = button.map(str::to_owned);
        let score = self.feedback.on_reply(&m).await.unwrap();
        self.settle().await;
        score
    }

    async fn ledger_has(&self, order: u64, decision: Decision, needle: &str) -> bool {
        self.store
            .ledger_for_order(&OrderId::new(order.to_string()))
            .await
            .unwrap()
            .iter()
            .any(|r| r.decision == decision && r.reason.contains(needle))
    }

    /// The provider reports the message sent under `key` failed with `code`, as its status
    /// callback would.
    async fn fail(&self, key: &str, code: &str) -> ReportOutcome {
        let sent = self.store.outbox_by_key(key).await.unwrap().unwrap();
        DeliveryReports::new(Arc::new(self.store.clone()))
            .record(
                &sent.receipt.unwrap().provider_message_id,
                &DeliveryStatus::Failed {
                    code: Some(code.into()),
                },
                self.clock.now(),
            )
            .await
            .unwrap()
    }

    fn annotations(&self) -> Vec<Annotation> {
        self.sb.shop.annotations()
    }
}

/// The survey link in a message's text (bidi marks and punctuation around it dropped).
fn survey_link(text: &str) -> String {
    let start = text.find("http://").expect("a link in the message");
    let link: String = text[start..]
        .chars()
        .take_while(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '"' | '<' | '>' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}'
                )
        })
        .collect();
    assert!(link.contains("/s/"), "a survey link: {link}");
    link
}

pub(crate) fn customer_of(w: &World, shipped: &Shipped) -> (String, String) {
    let c = w.sb.shop.customer_record(shipped.customer).unwrap();
    (c.email.unwrap(), c.phone.unwrap())
}

#[tokio::test]
async fn invitation_after_n_days_web_answer_and_detractor_follow_up_once() {
    let w = world(vec![ChannelKind::Email]).await;
    let (shipped, delivered) = w.ship("en-US", CarrierScript::happy_path()).await;
    let order = shipped.order;
    let due = delivered + Duration::days(3);

    // Not before N days.
    w.advance(due - w.clock.now() - Duration::minutes(1)).await;
    assert!(w.survey_sent(order, "after_delivery").is_empty());
    w.advance(Duration::minutes(2)).await;
    let invites = w.survey_sent(order, "after_delivery");
    assert_eq!(invites.len(), 1, "one invitation, N days after delivery");
    let (email, _) = customer_of(&w, &shipped);
    assert_eq!(invites[0].to, email);
    let link = survey_link(&invites[0].text);

    // The one-click GET (or a mail scanner) records nothing.
    let page = w.http.get(format!("{link}?score=2")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(r#"value="2" required checked"#)
    );
    w.settle().await;
    assert!(w.response(order).await.is_none(), "a GET never records");

    // The POST records, and the detractor follow-up runs.
    let post = |form: &'static str| {
        let (http, link) = (w.http.clone(), link.clone());
        async move {
            http.post(link)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        post("score=2&comment=The+machine+arrived+dented").await,
        200
    );
    w.settle().await;
    let r = w.response(order).await.unwrap();
    assert_eq!((r.score, r.via.as_str()), (2, "web"));
    assert_eq!(r.comment.as_deref(), Some("The machine arrived dented"));

    // Replayed answer: counted once, followed up once.
    assert_eq!(post("score=9").await, 200);
    w.settle().await;
    w.advance(Duration::hours(1)).await;
    assert_eq!(w.response(order).await.unwrap().score, 2);

    let alerts = w.sb.email.sent_to(SUPPORT);
    assert_eq!(alerts.len(), 1, "one support alert");
    assert!(alerts[0].text.contains('2'));
    let hooks = w.helpdesk.received.lock().unwrap().clone();
    assert_eq!(hooks.len(), 1, "one signed helpdesk webhook");
    assert!(
        hooks[0].0.starts_with("msg_"),
        "a Standard Webhooks id: {}",
        hooks[0].0
    );
    assert_eq!(*w.helpdesk.rejected.lock().unwrap(), 0);
    assert_eq!(hooks[0].1["type"], "survey.detractor");
    assert_eq!(hooks[0].1["data"]["score"], 2);
    assert_eq!(hooks[0].1["data"]["order_id"], order.to_string());
    let number = w.sb.shop.order_record(order).unwrap().name();
    assert_eq!(hooks[0].1["data"]["order_number"], number.as_str());
    assert!(alerts[0].text.contains(&number), "{}", alerts[0].text);
    let ann = w.annotations();
    let tags: Vec<&Annotation> = ann
        .iter()
        .filter(|a| {
            matches!(
                a,
                Annotation::OrderTags { .. } | Annotation::CustomerTags { .. }
            )
        })
        .collect();
    assert_eq!(tags.len(), 2, "order and customer tagged once: {ann:?}");
    assert!(ann.contains(&Annotation::OrderTags {
        order: OrderId::new(order.to_string()),
        tags: vec![TAG.into()],
    }));
    assert!(ann.contains(&Annotation::CustomerTags {
        customer: CustomerId::new(shipped.customer.to_string()),
        tags: vec![TAG.into()],
    }));
    assert!(
        w.sb.shop
            .order_record(order)
            .unwrap()
            .tags
            .contains(&TAG.to_owned())
    );
    assert!(
        w.sb.shop
            .customer_record(shipped.customer)
            .unwrap()
            .tags
            .contains(&TAG.to_owned())
    );
    // The receiver really checks: a forged delivery is refused.
    let forged = w
        .http
        .post(&w.helpdesk_url)
        .header("webhook-id", "msg_forged")
        .header("webhook-timestamp", Utc::now().timestamp().to_string())
        .header(
            "webhook-signature",
            "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .body(hooks[0].1.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(*w.helpdesk.rejected.lock().unwrap(), 1);
    assert_eq!(w.helpdesk.received.lock().unwrap().len(), 1);
    // A detractor gets no review request.
    assert!(w.sb.email.sent().iter().all(|m| !m.text.contains(REVIEW)));

    // No reminder after an answer.
    w.advance(Duration::days(4)).await;
    assert!(w.survey_sent(order, "reminder").is_empty());
    assert!(
        w.ledger_has(order, Decision::Skipped, "already answered")
            .await
    );
}

#[tokio::test]
async fn promoter_with_marketing_consent_gets_a_review_request() {
    let w = world(vec![ChannelKind::Email]).await;
    let (shipped, delivered) = w.ship("pt-BR", CarrierScript::happy_path()).await;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let invite = w.survey_sent(shipped.order, "after_delivery");
    assert_eq!(invite.len(), 1);
    let status = w
        .http
        .post(survey_link(&invite[0].text))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("score=10")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    w.settle().await;
    let (email, _) = customer_of(&w, &shipped);
    let reviews: Vec<SentMessage> =
        w.sb.email
            .sent_to(&email)
            .into_iter()
            .filter(|m| m.text.contains(REVIEW))
            .collect();
    assert_eq!(reviews.len(), 1, "one review request");
    assert_eq!(
        reviews[0].message.purpose,
        aftercare::model::Purpose::Marketing
    );
    assert!(w.sb.email.sent_to(SUPPORT).is_empty());
    assert!(w.helpdesk.received.lock().unwrap().is_empty());
    assert!(w.annotations().is_empty());
}

#[tokio::test]
async fn sms_replies_reask_once_score_arabic_digits_and_remind_once() {
    let w = world(vec![ChannelKind::Sms]).await;
    let (shipped, delivered) = w.ship("ar-SA", CarrierScript::happy_path()).await;
    let order = shipped.order;
    let (_, phone) = customer_of(&w, &shipped);
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    assert_eq!(w.survey_sent(order, "after_delivery").len(), 1);
    assert_eq!(w.survey_sent(order, "after_delivery")[0].to, phone);

    // The reminder goes once, R days later.
    w.advance(Duration::days(2)).await;
    assert!(w.survey_sent(order, "reminder").is_empty());
    w.advance(Duration::days(1)).await;
    assert_eq!(w.survey_sent(order, "reminder").len(), 1);
    w.advance(Duration::days(3)).await;
    assert_eq!(
        w.survey_sent(order, "reminder").len(),
        1,
        "only one reminder"
    );

    // Unparseable replies: exactly one re-ask.
    assert_eq!(w.reply(ChannelKind::Sms, &phone, "متى؟", None).await, None);
    assert_eq!(w.reply(ChannelKind::Sms, &phone, "what?", None).await, None);
    assert_eq!(w.survey_sent(order, "reask").len(), 1, "one re-ask");
    assert!(w.response(order).await.is_none());

    // Arabic-Indic digits.
    assert_eq!(
        w.reply(ChannelKind::Sms, &phone, "٩ شكراً", None).await,
        Some(9)
    );
    let r = w.response(order).await.unwrap();
    assert_eq!((r.score, r.via.as_str()), (9, "sms_reply"));
    assert_eq!(w.survey_sent(order, "thanks").len(), 1);
    // A promoter without marketing consent on SMS: no review request, and the ledger says why.
    assert!(w.sb.sms.sent().iter().all(|m| !m.text.contains(REVIEW)));
    assert!(
        w.ledger_has(order, Decision::Skipped, "no marketing consent")
            .await
    );
    // A second reply changes nothing.
    assert_eq!(w.reply(ChannelKind::Sms, &phone, "٢", None).await, None);
    assert_eq!(w.response(order).await.unwrap().score, 9);
}

/// A reply holding two numbers is not a guess: neither is scored, the reply is kept as a
/// comment, and the customer is asked once (per invitation), in their language, for one
/// number; one number then scores.
#[tokio::test]
async fn replies_with_two_numbers_are_not_scored_asked_about_once_and_kept_as_comments() {
    let w = world(vec![ChannelKind::Sms]).await;
    let (shipped, delivered) = w.ship("tr-TR", CarrierScript::happy_path()).await;
    let order = shipped.order;
    let (_, phone) = customer_of(&w, &shipped);
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    assert_eq!(w.survey_sent(order, "after_delivery").len(), 1);
    let inv = format!("{order}-nps");

    let first_at = w.clock.now();
    assert_eq!(w.reply(ChannelKind::Sms, &phone, "1 0", None).await, None);
    assert!(w.response(order).await.is_none(), "\"1 0\" is not scored");
    let clarify = w.survey_sent(order, "clarify");
    assert_eq!(clarify.len(), 1);
    assert_eq!(clarify[0].to, phone);
    assert!(
        clarify[0].text.contains("birden fazla sayı") && clarify[0].text.contains("10"),
        "asked in the customer's language for one number: {}",
        clarify[0].text
    );

    w.advance(Duration::minutes(10)).await;
    let second_at = w.clock.now();
    assert_eq!(
        w.reply(ChannelKind::Sms, &phone, "3 or 4", None).await,
        None
    );
    assert!(
        w.response(order).await.is_none(),
        "\"3 or 4\" is not scored"
    );
    assert_eq!(
        w.survey_sent(order, "clarify").len(),
        1,
        "asked once per invitation"
    );
    assert!(w.survey_sent(order, "reask").is_empty());
    assert_eq!(
        w.store.comments(&inv).await.unwrap(),
        vec![
            SurveyComment::new(first_at, "1 0"),
            SurveyComment::new(second_at, "3 or 4")
        ],
        "both replies are kept as comments"
    );
    assert!(
        w.ledger_has(order, Decision::Skipped, "more than one number")
            .await
    );

    // One number is a score.
    assert_eq!(w.reply(ChannelKind::Sms, &phone, "4", None).await, Some(4));
    assert_eq!(w.response(order).await.unwrap().score, 4);
}

#[tokio::test]
async fn whatsapp_button_payload_scores_and_late_reply_is_kept_as_a_comment() {
    let w = world(vec![ChannelKind::Whatsapp]).await;
    let (first, delivered) = w.ship("es-MX", CarrierScript::happy_path()).await;
    let (second, delivered2) = w.ship("th-TH", CarrierScript::happy_path()).await;
    let last = delivered.max(delivered2);
    w.advance(last + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    assert_eq!(w.survey_sent(first.order, "after_delivery").len(), 1);
    assert_eq!(w.survey_sent(second.order, "after_delivery").len(), 1);
    let (_, maria) = customer_of(&w, &first);
    let (_, somchai) = customer_of(&w, &second);

    assert_eq!(
        w.reply(ChannelKind::Whatsapp, &maria, "Bueno", Some("score:8"))
            .await,
        Some(8)
    );
    let r = w.response(first.order).await.unwrap();
    assert_eq!((r.score, r.via.as_str()), (8, "whatsapp_reply"));

    // After the survey closed (14 days after the invitation), a reply is not scored.
    let inv = w
        .store
        .invitation(&format!("{}-nps", second.order))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inv.closes_at, delivered2 + Duration::days(3 + 14));
    w.advance(Duration::days(1)).await;
    assert!(w.clock.now() < inv.closes_at);
    w.advance(inv.closes_at - w.clock.now() + Duration::minutes(1))
        .await;
    assert_eq!(
        w.reply(ChannelKind::Whatsapp, &somchai, "๙", None).await,
        None
    );
    assert!(w.response(second.order).await.is_none());
    assert!(
        w.ledger_has(second.order, Decision::Skipped, "after it closed")
            .await
    );
    assert!(w.survey_sent(second.order, "reask").is_empty());

    // ...but it is kept as a comment, once even if the same message is handled twice.
    let replied_at = w.clock.now();
    assert_eq!(
        w.reply(ChannelKind::Whatsapp, &somchai, "๙", None).await,
        None
    );
    assert_eq!(
        w.store.comments(&inv.id).await.unwrap(),
        vec![SurveyComment::new(replied_at, "๙")],
        "a reply after the survey closed is kept as a comment, not a score"
    );
    assert!(w.response(second.order).await.is_none());

    // A redaction of that customer erases the comment.
    let redact =
        w.sb.sender
            .customers_redact(&w.sb.shop, second.customer)
            .unwrap();
    w.post(&[redact]).await;
    w.settle().await;
    assert!(w.store.comments(&inv.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn no_invitation_while_an_exception_is_open() {
    let w = world(vec![ChannelKind::Email]).await;
    let (shipped, _) = w.ship("en-US", CarrierScript::exception()).await;
    let order = shipped.order;
    // Past the after-shipping fallback (14 days): the exception holds it back.
    w.advance(Duration::days(15)).await;
    for _ in 0..3 {
        w.advance(Duration::days(1)).await;
    }
    assert!(w.survey_sent(order, "after_shipping").is_empty());
    assert!(w.survey_sent(order, "after_delivery").is_empty());
    assert!(
        w.ledger_has(order, Decision::Deferred, "open problem")
            .await
    );

    // The parcel finally arrives: the after-delivery invitation goes, the fallback never.
    let delivered = w
        .play(
            shipped.fulfillment,
            CarrierScript::new().step(Duration::zero(), Milestone::Delivered),
        )
        .await;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    assert_eq!(w.survey_sent(order, "after_delivery").len(), 1);
    w.advance(Duration::days(2)).await;
    assert!(w.survey_sent(order, "after_shipping").is_empty());
    assert!(
        w.ledger_has(
            order,
            Decision::Skipped,
            "after-delivery invitation is used"
        )
        .await
    );
}

#[tokio::test]
async fn cool_down_for_a_second_order_of_the_same_customer() {
    let w = world(vec![ChannelKind::Email]).await;
    let (first, delivered) = w.ship("tr-TR", CarrierScript::happy_path()).await;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    assert_eq!(w.survey_sent(first.order, "after_delivery").len(), 1);

    w.advance(Duration::days(10)).await;
    let (second, delivered2) = w.ship("tr-TR", CarrierScript::happy_path()).await;
    assert_eq!(second.customer, first.customer);
    w.advance(delivered2 + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    for _ in 0..20 {
        w.advance(Duration::days(1)).await;
    }
    assert!(w.survey_sent(second.order, "after_delivery").is_empty());
    assert!(w.survey_sent(second.order, "after_shipping").is_empty());
    assert!(w.survey_sent(second.order, "reminder").is_empty());
    assert!(
        w.ledger_has(second.order, Decision::Skipped, "cool-down")
            .await
    );
}

#[tokio::test]
async fn report_from_the_store_matches_hand_computed_figures() {
    let w = world(vec![ChannelKind::Email]).await;
    // Five customers; four answer on the page: 10, 9, 7, 3. The Turkish parcel is late.
    let mut orders = Vec::new();
    for (locale, script, score) in [
        ("en-US", CarrierScript::happy_path(), Some(10)),
        ("pt-BR", CarrierScript::happy_path(), Some(9)),
        ("tr-TR", CarrierScript::delayed(), Some(7)),
        ("es-MX", CarrierScript::happy_path(), Some(3)),
        ("ar-SA", CarrierScript::happy_path(), None),
    ] {
        let (s, delivered) = w.ship(locale, script).await;
        w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
            .await;
        let invite = w.survey_sent(s.order, "after_delivery");
        assert_eq!(invite.len(), 1);
        if let Some(score) = score {
            let status = w
                .http
                .post(survey_link(&invite[0].text))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("score={score}"))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 200);
        }
        orders.push(s);
    }
    w.settle().await;
    let report = aftercare_examples::feedback::load_report(
        &w.store,
        "2026-01-01T00:00:00Z".parse().unwrap(),
        "2027-01-01T00:00:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(report.invitations, 5);
    assert_eq!(report.responses, 4);
    assert!((report.response_rate - 80.0).abs() < 1e-9);
    let nps = report.overall.nps.clone().unwrap();
    // 2 promoters, 1 passive, 1 detractor of 4: NPS = 50 − 25 = 25;
    // margin = 1.96 × sqrt((0.5 + 0.25 − 0.25²) / 4) × 100 = 81.26.
    assert_eq!((nps.promoters, nps.passives, nps.detractors), (2, 1, 1));
    assert!((nps.nps - 25.0).abs() < 1e-9);
    assert!(
        (nps.margin_of_error - 81.26).abs() < 0.01,
        "{}",
        nps.margin_of_error
    );
    assert!(report.overall.csat.is_none());
    let mut dist = [0u64; 11];
    for s in [10, 9, 7, 3] {
        dist[s] += 1;
    }
    assert_eq!(report.nps_distribution, dist);
    // Breakdowns: each customer's carrier; one product; the delayed parcel is late.
    let carriers = &report.breakdowns["carrier"];
    assert_eq!(carriers.len(), 4, "{carriers:?}");
    let lateness = &report.breakdowns["lateness"];
    let n = |k: &str| lateness[k].nps.as_ref().unwrap().responses;
    assert_eq!(lateness.len(), 2, "{lateness:?}");
    assert_eq!((n("on time"), n("1-2 days late")), (3, 1), "{lateness:?}");
    // The late parcel's customer gave 7: NPS 0 there; on time: 10, 9, 3 → 33.3.
    assert!((lateness["1-2 days late"].nps.as_ref().unwrap().nps).abs() < 1e-9);
    assert!((lateness["on time"].nps.as_ref().unwrap().nps - 100.0 / 3.0).abs() < 1e-9);
    let product = &report.breakdowns["product"]["Barista Espresso Machine"];
    assert_eq!(product.nps.as_ref().unwrap().responses, 4);
    assert!((product.nps.as_ref().unwrap().nps - 25.0).abs() < 1e-9);
    // Weekly: every answer in exactly one ISO week (Monday), the weeks of their answers.
    let weeks: u64 = report
        .weekly
        .values()
        .map(|g| g.nps.as_ref().map_or(0, |n| n.responses))
        .sum();
    assert_eq!(weeks, 4);
    let mut expected_weeks = Vec::new();
    for s in &orders[..4] {
        let at = w.response(s.order).await.unwrap().answered_at;
        expected_weeks.push(aftercare::report::week_start(at).to_string());
    }
    expected_weeks.dedup();
    assert_eq!(
        report.weekly.keys().cloned().collect::<Vec<_>>(),
        expected_weeks
    );
    assert!(
        report.weekly.len() >= 2,
        "answers span weeks: {:?}",
        report.weekly.keys()
    );
    let csv = report.to_csv();
    assert!(
        csv.starts_with(
            "group,key,responses,nps,nps_margin,csat,csat_margin,ces,ces_margin\noverall,,4,25.0,81.3,,,,\n"
        ),
        "{csv}"
    );
}

#[tokio::test]
async fn customers_redact_removes_personal_data_from_answers_and_keeps_the_score() {
    let w = world(vec![ChannelKind::Email]).await;
    let (shipped, delivered) = w.ship("en-US", CarrierScript::happy_path()).await;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let link = survey_link(&w.survey_sent(shipped.order, "after_delivery")[0].text);
    let status = w
        .http
        .post(link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("score=8&comment=Call+me+on+%2B12025550143%2C+Emily")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    w.settle().await;
    let before = w.response(shipped.order).await.unwrap();
    assert!(before.customer_id.is_some() && before.comment.is_some());

    let redact =
        w.sb.sender
            .customers_redact(&w.sb.shop, shipped.customer)
            .unwrap();
    w.post(&[redact]).await;
    w.settle().await;
    let after = w.response(shipped.order).await.unwrap();
    assert_eq!(after.score, 8, "the score is kept");
    assert_eq!(after.customer_id, None);
    assert_eq!(after.comment, None);
    let inv = w
        .store
        .invitation(&format!("{}-nps", shipped.order))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inv.customer_id, None);
}

#[tokio::test]
async fn without_a_delivery_event_the_fallback_goes_after_shipping_and_is_answerable() {
    let w = world(vec![ChannelKind::Email]).await;
    let script = CarrierScript::new()
        .step(Duration::zero(), Milestone::LabelPrinted)
        .step(Duration::hours(6), Milestone::CarrierPickedUp)
        .step(Duration::hours(14), Milestone::InTransit);
    let shipped = w.sb.ship("es-MX").unwrap();
    w.post(&shipped.deliveries).await;
    w.settle().await;
    let mut scenario =
        w.sb.scenario(shipped.fulfillment, script)
            .with_fulfillment_events();
    let first = scenario.next_step().unwrap().unwrap();
    let label_printed = first.at;
    w.post(&first.deliveries).await;
    w.settle().await;
    while let Some(step) = scenario.next_step().unwrap() {
        w.post(&step.deliveries).await;
        w.settle().await;
    }
    let id = format!("{}-nps", shipped.order);
    // Not saved while it is only a fallback candidate.
    assert!(w.store.invitation(&id).await.unwrap().is_none());
    let due = label_printed + Duration::days(14);
    w.advance(due - w.clock.now() - Duration::minutes(1)).await;
    assert!(w.survey_sent(shipped.order, "after_shipping").is_empty());
    w.advance(Duration::minutes(2)).await;
    let sent = w.survey_sent(shipped.order, "after_shipping");
    assert_eq!(sent.len(), 1, "the fallback goes M days after shipping");
    let inv = w.store.invitation(&id).await.unwrap().unwrap();
    assert_eq!(inv.sent_at, due);
    assert_eq!(inv.closes_at, due + Duration::days(14));
    // The reminder follows the fallback R days later, once.
    w.advance(Duration::days(3)).await;
    assert_eq!(w.survey_sent(shipped.order, "reminder").len(), 1);
    let status = w
        .http
        .post(survey_link(&sent[0].text))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("score=7")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert_eq!(w.response(shipped.order).await.unwrap().score, 7);
    w.advance(Duration::days(5)).await;
    assert_eq!(w.survey_sent(shipped.order, "reminder").len(), 1);
    assert!(w.survey_sent(shipped.order, "after_delivery").is_empty());
}

#[tokio::test]
async fn an_invitation_reported_undelivered_goes_by_the_next_channel_once() {
    let w = world(vec![
        ChannelKind::Whatsapp,
        ChannelKind::Sms,
        ChannelKind::Email,
    ])
    .await;
    let (shipped, delivered) = w.ship("tr-TR", CarrierScript::happy_path()).await;
    let order = shipped.order;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let channels = |w: &World| -> Vec<ChannelKind> {
        w.survey_sent(order, "after_delivery")
            .iter()
            .map(|m| m.channel)
            .collect()
    };
    assert_eq!(channels(&w), vec![ChannelKind::Whatsapp]);
    let inv = format!("{order}-nps");
    // The provider accepted the message, then reports it failed (Meta's 131026: not
    // deliverable to this number; the SMS carrier's 30003: unreachable handset).
    let whatsapp_key = format!("survey:{inv}:after_delivery");
    let ReportOutcome::Recorded { message, .. } = w.fail(&whatsapp_key, "131026").await else {
        panic!("the failure is recorded");
    };
    w.feedback.on_undelivered(&message).await.unwrap();
    w.settle().await;
    assert_eq!(
        channels(&w),
        vec![ChannelKind::Sms, ChannelKind::Whatsapp],
        "the invitation goes by SMS instead"
    );
    let sms = &w.survey_sent(order, "after_delivery")[0];
    let (_, phone) = customer_of(&w, &shipped);
    assert_eq!(sms.to, phone);
    assert!(
        sms.text.contains("/s/"),
        "the same survey, by link: {}",
        sms.text
    );

    // The same report again changes nothing: one fallback per failure.
    let again = w.fail(&whatsapp_key, "131026").await;
    let ReportOutcome::AlreadyRecorded { message: same, .. } = again else {
        panic!("a duplicate report is not written twice: {again:?}");
    };
    w.feedback.on_undelivered(&same).await.unwrap();
    w.feedback.on_undelivered(&message).await.unwrap();
    w.settle().await;
    assert_eq!(channels(&w).len(), 2);
    assert!(
        w.ledger_has(
            order,
            Decision::Enqueued,
            "fallback: whatsapp could not deliver survey"
        )
        .await
    );

    // The SMS fails too: email, the last channel; its bounce leaves nothing to try.
    let ReportOutcome::Recorded { message, .. } = w
        .fail(&format!("survey:{inv}:after_delivery:sms"), "30003")
        .await
    else {
        panic!("the SMS failure is recorded");
    };
    w.feedback.on_undelivered(&message).await.unwrap();
    w.settle().await;
    assert_eq!(
        channels(&w),
        vec![ChannelKind::Email, ChannelKind::Sms, ChannelKind::Whatsapp]
    );
    let email = w.survey_sent(order, "after_delivery")[0].clone();
    let ReportOutcome::Recorded { message, .. } = w
        .fail(&format!("survey:{inv}:after_delivery:email"), "5.1.1")
        .await
    else {
        panic!("the bounce is recorded");
    };
    w.feedback.on_undelivered(&message).await.unwrap();
    w.settle().await;
    assert_eq!(channels(&w).len(), 3, "no channel is tried twice");
    assert!(
        w.ledger_has(order, Decision::Skipped, "no other channel is left to try")
            .await
    );

    // The one reminder follows the invitation: by email, when it was due (R days after the
    // invitation); the reminders on the channels that failed are skipped, with the reason.
    w.advance(Duration::days(3)).await;
    let reminders = w.survey_sent(order, "reminder");
    assert_eq!(
        reminders.iter().map(|m| m.channel).collect::<Vec<_>>(),
        vec![ChannelKind::Email],
        "one reminder, on the channel the invitation reached"
    );
    for by in ["sent again by sms", "sent again by email"] {
        assert!(
            w.ledger_has(order, Decision::Skipped, by).await,
            "the reminder on the failed channel is skipped: {by}"
        );
    }

    // The emailed link answers the one survey.
    let link = survey_link(&email.text);
    let page = w
        .http
        .post(&link)
        .form(&[("score", "9")])
        .send()
        .await
        .unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    w.settle().await;
    assert_eq!(w.response(order).await.unwrap().score, 9);
}

#[tokio::test]
async fn an_answered_survey_is_not_re_sent_when_its_invitation_fails_later() {
    let w = world(vec![ChannelKind::Sms, ChannelKind::Email]).await;
    let (shipped, delivered) = w.ship("ar-SA", CarrierScript::happy_path()).await;
    let order = shipped.order;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let (_, phone) = customer_of(&w, &shipped);
    assert_eq!(w.survey_sent(order, "after_delivery")[0].to, phone);
    assert_eq!(
        w.reply(ChannelKind::Sms, &phone, "10", None).await,
        Some(10)
    );
    // A late failure report (a second handset, a carrier glitch) for the answered survey.
    let ReportOutcome::Recorded { message, .. } = w
        .fail(&format!("survey:{order}-nps:after_delivery"), "30003")
        .await
    else {
        panic!("the failure is recorded");
    };
    w.feedback.on_undelivered(&message).await.unwrap();
    w.settle().await;
    assert!(
        w.survey_sent(order, "after_delivery")
            .iter()
            .all(|m| m.channel == ChannelKind::Sms),
        "no email for a survey already answered"
    );
}

#[tokio::test]
async fn a_reply_to_the_fallback_invitation_scores_the_survey() {
    let w = world(vec![ChannelKind::Whatsapp, ChannelKind::Sms]).await;
    let (shipped, delivered) = w.ship("ar-SA", CarrierScript::happy_path()).await;
    let order = shipped.order;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let sent = w
        .store
        .outbox_by_key(&format!("survey:{order}-nps:after_delivery"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent.message.channel, ChannelKind::Whatsapp);
    let ReportOutcome::Recorded { message, .. } = w.fail(&sent.key, "131026").await else {
        panic!("the failure is recorded");
    };
    w.feedback.on_undelivered(&message).await.unwrap();
    w.settle().await;
    let (_, phone) = customer_of(&w, &shipped);
    assert_eq!(
        w.reply(ChannelKind::Sms, &phone, "٩", None).await,
        Some(9),
        "the SMS reply answers the survey the WhatsApp invitation could not"
    );
    let r = w.response(order).await.unwrap();
    assert_eq!((r.score, r.via.as_str()), (9, "sms_reply"));
}
