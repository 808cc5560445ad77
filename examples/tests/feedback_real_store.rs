//! `feedback run --config`: the real-store stack with `[survey]` and `[follow_up]`, against
//! wiremock standing in for Shopify's Admin GraphQL API, Twilio's Messages API and a helpdesk
//! (payloads from the adapters' fixtures, as in `real_store.rs`):
//!
//! - a signed `fulfillments/create` webhook of a delivered parcel leads (with
//!   `days_after_delivery = 0`) to one Twilio call whose body holds the survey link;
//! - the customer's SMS reply `2` (a signed Twilio inbound form) is recorded as the answer,
//!   tags the order and the customer in Shopify (`tagsAdd`) and sends a signed Standard
//!   Webhooks alert to the helpdesk;
//! - `feedback report --config` reads the answer from the configured store;
//! - an SMS invitation Twilio reports undelivered (a signed status callback, error 30003)
//!   is sent once more by email, through a real SMTP server, with a link to the same survey.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use aftercare::store::{Outbox, SurveyStore};
use aftercare::webhook::{RawHeaders, Scheme, Secret, Verifier};
use aftercare_sqlite::SqliteStore;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    ACCOUNT, GQL, KillOnDrop, base_config, cost, fixture, post_shopify, post_twilio,
    wait_inbox_processed, wait_sent, wait_until,
};

const BIN: &str = env!("CARGO_BIN_EXE_feedback");
const HELPDESK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const CUSTOMER_PHONE: &str = "+905321234567";
/// The invitation of the fixture's order (`{order}-{kind}`).
const INVITATION: &str = "820982911946154508-nps";

/// Shopify answering the order and customer queries, and accepting tags.
async fn shopify_mock() -> MockServer {
    let server = crate::support::shopify_mock().await;
    Mock::given(method("POST"))
        .and(path(GQL))
        .and(body_string_contains("mutation AftercareTagsAdd("))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"tagsAdd": {"node": null, "userErrors": []}},
            "extensions": cost()
        })))
        .mount(&server)
        .await;
    server
}

async fn twilio_mock() -> MockServer {
    crate::support::twilio_mock(CUSTOMER_PHONE).await
}

async fn helpdesk_mock() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/aftercare"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

/// A delivered parcel's fulfillment, as Shopify signs and posts it to the stack at `addr`.
async fn post_delivered(http: &reqwest::Client, addr: &str) {
    let now = chrono::Utc::now().to_rfc3339();
    let mut payload = fixture("fulfillments_create.json");
    payload["shipment_status"] = json!("delivered");
    payload["status"] = json!("success");
    payload["created_at"] = json!(now);
    payload["updated_at"] = json!(now);
    post_shopify(http, addr, "fulfillments/create", "b54557e4-0101", &payload).await;
}

/// The survey link's token in a message text.
fn survey_token(text: &str) -> String {
    text.split("https://shop.example/aftercare/s/")
        .nth(1)
        .and_then(|r| {
            r.split(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '\\' | '\''))
                .next()
        })
        .unwrap_or_else(|| panic!("no survey link in {text}"))
        .to_owned()
}

fn config(shopify: &str, twilio: &str, helpdesk: &str, db: &Path) -> String {
    base_config(shopify, twilio, db, "")
        + &format!(
            r#"
[tracking]
# These tests check what is sent, at any hour; quiet hours are on unless turned off.
quiet_hours = {{ off = true }}
# Only the shipping message: the delivery below produces the survey alone.
milestones = ["shipped"]
channels = ["sms"]

[survey]
kind = "nps"
days_after_delivery = 0
reminder_days = 0
channels = ["sms"]

[follow_up]
helpdesk_webhook_url = "{helpdesk}/hooks/aftercare"
helpdesk_webhook_secret = {{ value = "{HELPDESK_SECRET}" }}
detractor_tag = "unhappy-customer"

[dashboard]
key = {{ value = "dashboard-key" }}
"#
        )
}

/// Starts `feedback run --config` and returns the child and the address it listens on.
fn spawn_run(cfg: &Path) -> (KillOnDrop, String) {
    spawn(BIN, "feedback", cfg)
}

/// Starts `{bin} run --config`, checks it serves surveys, and returns the child and the
/// address it listens on.
fn spawn(bin: &str, program: &str, cfg: &Path) -> (KillOnDrop, String) {
    let (child, addr, line) = crate::support::spawn_run(bin, cfg);
    assert!(line.starts_with(&format!("{program}: serving")), "{line}");
    assert!(line.contains("surveys at /s/{token}"), "{line}");
    (child, addr)
}

fn form_field(body: &[u8], k: &str) -> String {
    url::form_urlencoded::parse(body)
        .into_owned()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_brings_the_survey_and_a_detractor_reply_is_followed_up() {
    let shopify = shopify_mock().await;
    let twilio = twilio_mock().await;
    let helpdesk = helpdesk_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    std::fs::write(
        &cfg,
        config(&shopify.uri(), &twilio.uri(), &helpdesk.uri(), &db),
    )
    .unwrap();
    let (child, addr) = spawn_run(&cfg);
    let http = reqwest::Client::new();

    // The carrier reports the parcel delivered, now: Shopify's signed fulfillment webhook.
    post_delivered(&http, &addr).await;

    // The invitation goes out through Twilio, at once (0 days after delivery).
    let store = SqliteStore::open(&db).await.unwrap();
    let invite_key = format!("survey:{INVITATION}:after_delivery");
    wait_sent(&store, &invite_key, "the survey invitation to be sent").await;
    let calls = twilio.received_requests().await.unwrap();
    assert_eq!(
        calls.len(),
        1,
        "one Twilio call: the survey, no tracking message"
    );
    assert_eq!(form_field(&calls[0].body, "To"), CUSTOMER_PHONE);
    let text = form_field(&calls[0].body, "Body");
    assert!(
        text.contains("https://shop.example/aftercare/s/"),
        "the survey link: {text}"
    );
    // The link opens the survey page the stack serves (the token is the link's last part).
    let token = survey_token(&text);
    let page = http
        .get(format!("http://{addr}/s/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        store.response(INVITATION).await.unwrap().is_none(),
        "a GET records nothing"
    );

    // The customer answers `2` by SMS: Twilio posts it, signed for the public URL.
    let form = format!(
        "MessageSid=SMcccccccccccccccccccccccccccccccc&AccountSid={ACCOUNT}&From=%2B905321234567&To=%2B14155552345&Body=2"
    );
    post_twilio(&http, &addr, &form).await;

    wait_until("the answer to be recorded", || async {
        store.response(INVITATION).await.ok().flatten().is_some()
    })
    .await;
    let answer = store.response(INVITATION).await.unwrap().unwrap();
    assert_eq!(answer.score, 2);
    assert_eq!(answer.via, "sms_reply");

    // A detractor: the order and the customer are tagged in Shopify...
    let tags_calls = || async {
        shopify
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| String::from_utf8_lossy(&r.body).contains("mutation AftercareTagsAdd("))
            .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
            .collect::<Vec<_>>()
    };
    wait_until("the tags", || async { tags_calls().await.len() >= 2 }).await;
    let tags = tags_calls().await;
    assert!(
        tags.iter().any(
            |b| b["variables"]["id"] == "gid://shopify/Order/820982911946154508"
                && b["variables"]["tags"] == json!(["unhappy-customer"])
        ),
        "{tags:?}"
    );
    assert!(
        tags.iter()
            .any(|b| b["variables"]["id"] == "gid://shopify/Customer/115310627314723954"),
        "{tags:?}"
    );

    // ...and the helpdesk gets one signed alert.
    wait_until("the helpdesk alert", || async {
        !helpdesk.received_requests().await.unwrap().is_empty()
    })
    .await;
    let hooks = helpdesk.received_requests().await.unwrap();
    assert_eq!(hooks.len(), 1);
    let mut raw = RawHeaders::new();
    for (k, v) in &hooks[0].headers {
        raw.insert(k.as_str(), v.as_bytes());
    }
    let verifier = Verifier::new(
        Scheme::StandardWebhooks,
        Secret::from_standard_webhooks(HELPDESK_SECRET).unwrap(),
    );
    verifier
        .verify(&raw, &hooks[0].body, chrono::Utc::now())
        .expect("signed with the configured secret");
    let alert: Value = serde_json::from_slice(&hooks[0].body).unwrap();
    assert_eq!(alert["type"], "survey.detractor");
    assert_eq!(alert["data"]["score"], 2);
    assert_eq!(alert["data"]["order_id"], "820982911946154508");

    // The dashboard is served, behind its key.
    let r = http
        .get(format!("http://{addr}/dashboard/report.json"))
        .bearer_auth("dashboard-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = http
        .get(format!("http://{addr}/dashboard/report.json"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    drop(child);
    store.close().await;

    // `report --config` reads the configured store.
    let out = Command::new(BIN)
        .args(["report", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Invitations sent: 1   answers: 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("NPS distribution: 0:0 1:0 2:1 "),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_links_run_serves_surveys_too_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    let unused = "http://127.0.0.1:9";
    let text = config(unused, unused, unused, &db).replace(
        "public_url = \"https://shop.example/aftercare\"\n",
        "public_url = \"https://shop.example/aftercare\"\nidle_timeout_secs = 1\nheader_read_timeout_secs = 1\n",
    );
    assert!(text.contains("idle_timeout_secs = 1"));
    std::fs::write(&cfg, text).unwrap();
    let (_child, addr) = spawn(env!("CARGO_BIN_EXE_tracking-links"), "tracking-links", &cfg);
    let http = reqwest::Client::new();
    // The survey page refuses a forged token; the dashboard opens with its key only.
    let r = http
        .get(format!("http://{addr}/s/not-a-token"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    // The survey page's own answer (a page saying the link is invalid), not an unknown route.
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<html"),
        "the survey route is served: {page:?}"
    );
    let r = http
        .get(format!("http://{addr}/dashboard/report.json"))
        .bearer_auth("dashboard-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["responses"], 0, "{report}");
    // The pages carry their security headers.
    let r = http
        .get(format!("http://{addr}/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "the sign-in form");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );

    // `[server]` limits are applied: a connection that sends nothing is closed after the
    // configured second (5 s by default; never with `axum::serve`).
    let (read, took) = tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let mut silent = std::net::TcpStream::connect(&addr).unwrap();
        let opened = std::time::Instant::now();
        silent
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut byte = [0u8; 1];
        let read = silent.read(&mut byte).map_err(|e| e.kind());
        (read, opened.elapsed())
    })
    .await
    .unwrap();
    assert!(
        matches!(read, Ok(0) | Err(std::io::ErrorKind::ConnectionReset)),
        "closed by the server, not timed out here: {read:?}"
    );
    assert!(
        took < std::time::Duration::from_millis(3500),
        "closed after {took:?}, idle_timeout_secs = 1"
    );
}

#[tokio::test]
async fn run_without_a_survey_section_says_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    let text = config(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        &db,
    );
    let cut = text.find("[survey]").unwrap();
    std::fs::write(&cfg, &text[..cut]).unwrap();
    let out = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("no [survey] section"), "{e}");
    assert!(!db.exists(), "nothing was started");
}

#[tokio::test]
async fn an_undelivered_sms_invitation_is_sent_again_by_email_to_the_same_survey() {
    let smtp = crate::smtp_server::Server::start("plain", None, None);
    let shopify = shopify_mock().await;
    let twilio = twilio_mock().await;
    let helpdesk = helpdesk_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    let text = config(&shopify.uri(), &twilio.uri(), &helpdesk.uri(), &db).replace(
        "reminder_days = 0\nchannels = [\"sms\"]",
        "reminder_days = 0\nchannels = [\"sms\", \"email\"]",
    ) + &format!(
        r#"
[smtp]
host = "127.0.0.1"
port = {}
tls = "none"
from = "Demo Coffee <orders@shop.example>"
"#,
        smtp.port
    );
    assert!(text.contains(r#"channels = ["sms", "email"]"#), "{text}");
    std::fs::write(&cfg, text).unwrap();
    let (child, addr) = spawn_run(&cfg);
    let http = reqwest::Client::new();
    post_delivered(&http, &addr).await;

    // The invitation goes by SMS first (the first survey channel).
    let store = SqliteStore::open(&db).await.unwrap();
    let invite_key = format!("survey:{INVITATION}:after_delivery");
    wait_sent(&store, &invite_key, "the SMS invitation to be sent").await;
    let calls = twilio.received_requests().await.unwrap();
    assert_eq!(calls.len(), 1);
    let sms_token = survey_token(&form_field(&calls[0].body, "Body"));

    // Twilio reports it undelivered (error 30003, unreachable handset) to the status
    // callback, signed, as "Track the Message Status of Outbound Messages" shows; twice,
    // as Twilio may retry.
    let form = format!(
        "AccountSid={ACCOUNT}&ApiVersion=2010-04-01&ErrorCode=30003&From=%2B14155552345&MessageSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&MessageStatus=undelivered&SmsSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&SmsStatus=undelivered&To=%2B905321234567"
    );
    for _ in 0..2 {
        post_twilio(&http, &addr, &form).await;
    }

    // The same invitation goes once more, by email, to the customer's address.
    let email_key = format!("{invite_key}:email");
    wait_sent(&store, &email_key, "the email invitation to be sent").await;
    wait_inbox_processed(&store).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one email however often Twilio reports");
    let (summary, _raw) = &mails[0];
    assert_eq!(
        summary["rcpt_tos"],
        json!(["ayse@example.com"]),
        "{summary}"
    );
    // The email's link (a token of its own) opens the same survey the SMS pointed to.
    let email_token = survey_token(&summary["parts"][0]["text"].to_string());
    assert_ne!(email_token, sms_token);
    for token in [&sms_token, &email_token] {
        let page = http
            .get(format!("http://{addr}/s/{token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!(r#"<form method="post" action="/s/{token}""#)),
            "{html}"
        );
    }
    // Answering through the email's link scores the invitation the SMS carried.
    let r = http
        .post(format!("http://{addr}/s/{email_token}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("score=9")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let answer = store.response(INVITATION).await.unwrap().unwrap();
    assert_eq!(answer.score, 9);
    drop(child);
    let email = store.outbox_by_key(&email_key).await.unwrap().unwrap();
    assert_eq!(
        email.message.meta.get("fallback_of").map(String::as_str),
        Some(invite_key.as_str())
    );
    assert_eq!(
        twilio.received_requests().await.unwrap().len(),
        1,
        "no second SMS"
    );
    store.close().await;
}
