//! Outbound webhooks as Postmark's webhook pages show them (postmarkapp.com/developer/webhooks/
//! delivery-webhook, bounce-webhook, spam-complaint-webhook, open-tracking-webhook,
//! subscription-change-webhook: the example payloads), behind Basic credentials in the URL
//! ("Protecting your webhook", webhooks-overview); refused requests store nothing.

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::flows::email::EmailEventKind;
use aftercare::http::WebhookRoutes;
use aftercare::store::Inbox;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_postmark::events::{TRACE_HEADER, bounce_kind, decode_events};
use aftercare_postmark::{BasicAuth, PostmarkEvents};
use aftercare_sqlite::SqliteStore;

/// base64("postmark:a-long-random-webhook-password")
const GOOD: &str = "Basic cG9zdG1hcms6YS1sb25nLXJhbmRvbS13ZWJob29rLXBhc3N3b3Jk";

pub fn source() -> PostmarkEvents {
    PostmarkEvents::new("postmark", Secret::from("a-long-random-webhook-password")).unwrap()
}

/// The Delivery webhook page's example.
pub const DELIVERY: &str = r#"{
  "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
  "Recipient": "john@example.com",
  "DeliveredAt": "2019-11-05T16:33:54.9070259Z",
  "Details": "Test delivery webhook details",
  "Tag": "welcome-email",
  "ServerID": 23,
  "Metadata": {"a_key": "a_value", "aftercare_key": "survey:inv-1:after_delivery"},
  "RecordType": "Delivery",
  "MessageStream": "outbound"
}"#;

/// The Bounce webhook page's example (a hard bounce).
pub const HARD_BOUNCE: &str = r#"{
  "RecordType": "Bounce",
  "MessageStream": "outbound",
  "ID": 4323372036854775807,
  "Type": "HardBounce",
  "TypeCode": 1,
  "Name": "Hard bounce",
  "Tag": "Test",
  "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
  "Metadata": {"a_key": "a_value", "b_key": "b_value"},
  "ServerID": 23,
  "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
  "Details": "Test bounce details",
  "Email": "john@example.com",
  "From": "sender@example.com",
  "BouncedAt": "2019-11-05T16:33:54.9070259Z",
  "DumpAvailable": true,
  "Inactive": true,
  "CanActivate": true,
  "Subject": "Test subject",
  "Content": "Test content"
}"#;

/// The Spam complaint webhook page's example.
const SPAM: &str = r#"{
  "RecordType": "SpamComplaint",
  "MessageStream": "outbound",
  "ID": 42,
  "Type": "SpamComplaint",
  "TypeCode": 100001,
  "Name": "Spam complaint",
  "Tag": "Test",
  "MessageID": "00000000-0000-0000-0000-000000000000",
  "Metadata": {"a_key": "a_value"},
  "ServerID": 1234,
  "Description": "",
  "Details": "Test spam complaint details",
  "Email": "john@example.com",
  "From": "sender@example.com",
  "BouncedAt": "2019-11-05T16:33:54.9070259Z",
  "DumpAvailable": true,
  "Inactive": true,
  "CanActivate": false,
  "Subject": "Test subject",
  "Content": "<Abuse report dump>"
}"#;

/// The Open tracking webhook page's example (shortened: client and geo fields left out).
const OPEN: &str = r#"{
  "RecordType": "Open",
  "MessageStream": "outbound",
  "Metadata": {"example": "value"},
  "FirstOpen": true,
  "Recipient": "john@example.com",
  "MessageID": "00000000-0000-0000-0000-000000000000",
  "ReceivedAt": "2019-11-05T16:33:54.9070259Z",
  "Platform": "WebMail",
  "ReadSeconds": 5,
  "Tag": "welcome-email",
  "UserAgent": "Mozilla/5.0"
}"#;

/// The Subscription change webhook page's example.
const SUBSCRIPTION: &str = r#"{
  "RecordType": "SubscriptionChange",
  "MessageID": "00000000-0000-0000-0000-000000000000",
  "ServerID": 23,
  "MessageStream": "outbound",
  "ChangedAt": "2020-02-01T10:53:34.416071Z",
  "Recipient": "bounced-address@wildbit.com",
  "Origin": "Recipient",
  "SuppressSending": true,
  "SuppressionReason": "HardBounce",
  "Tag": "my-tag",
  "Metadata": {"example": "value"}
}"#;

fn request<'a>(h: &'a RawHeaders, body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest::new(h, body, chrono::Utc::now())
}

#[test]
fn only_the_url_credentials_are_accepted() {
    let src = source();
    let ok = RawHeaders::from_pairs([("Authorization", GOOD), (TRACE_HEADER, "trace-1")]);
    let v = src.verify(&request(&ok, DELIVERY.as_bytes())).unwrap();
    assert_eq!(v.topic.as_deref(), Some("Delivery"));
    assert_eq!(v.dedupe_key, "pm-trace:trace-1");
    for auth in [
        // postmark:wrong
        "Basic cG9zdG1hcms6d3Jvbmc=",
        // postmark:a-long-random-webhook-passwor (one byte short)
        "Basic cG9zdG1hcms6YS1sb25nLXJhbmRvbS13ZWJob29rLXBhc3N3b3I=",
        "Bearer cG9zdG1hcms6YS1sb25nLXJhbmRvbS13ZWJob29rLXBhc3N3b3Jk",
        "Basic !!!",
        "",
    ] {
        let h = RawHeaders::from_pairs([("Authorization", auth)]);
        assert_eq!(
            src.verify(&request(&h, DELIVERY.as_bytes())),
            Err(Rejection::Mismatch),
            "{auth:?}"
        );
    }
    let none = RawHeaders::from_pairs([(TRACE_HEADER, "trace-1")]);
    assert_eq!(
        src.verify(&request(&none, DELIVERY.as_bytes())),
        Err(Rejection::Mismatch)
    );
    // Without a trace id, the body is the key: the same body twice is one entry.
    let bare = RawHeaders::from_pairs([("Authorization", GOOD)]);
    let a = src.verify(&request(&bare, DELIVERY.as_bytes())).unwrap();
    let b = src.verify(&request(&bare, DELIVERY.as_bytes())).unwrap();
    assert_eq!(a.dedupe_key, b.dedupe_key);
    assert!(matches!(
        src.verify(&request(&bare, b"{\"no\": 1}")),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[test]
fn an_empty_password_cannot_build_a_source_and_debug_hides_it() {
    assert!(PostmarkEvents::new("postmark", Secret::from("")).is_err());
    assert!(BasicAuth::new("", Secret::from("x")).is_err());
    let a = BasicAuth::new("postmark", Secret::from("hunter2-secret")).unwrap();
    assert!(!format!("{a:?}").contains("hunter2"));
    assert!(!format!("{:?}", source()).contains("a-long-random"));
}

#[test]
fn the_documented_payloads_decode() {
    let d = decode_events(DELIVERY.as_bytes()).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, EmailEventKind::Delivered);
    assert_eq!(d[0].recipient, "john@example.com");
    assert_eq!(
        d[0].provider_message_id.as_deref(),
        Some("883953f4-6105-42a2-a16a-77a8eac79483")
    );
    assert_eq!(d[0].key.as_deref(), Some("survey:inv-1:after_delivery"));
    assert_eq!(d[0].at.to_rfc3339(), "2019-11-05T16:33:54.907025900+00:00");

    let b = decode_events(HARD_BOUNCE.as_bytes()).unwrap();
    assert_eq!(b[0].kind, EmailEventKind::Bounced { permanent: true });
    assert_eq!(b[0].reason.as_deref(), Some("Test bounce details"));
    assert_eq!(b[0].key, None);

    let s = decode_events(SPAM.as_bytes()).unwrap();
    assert_eq!(s[0].kind, EmailEventKind::Complained);
    assert_eq!(s[0].recipient, "john@example.com");

    let o = decode_events(OPEN.as_bytes()).unwrap();
    assert_eq!(o[0].kind, EmailEventKind::Opened);

    let u = decode_events(SUBSCRIPTION.as_bytes()).unwrap();
    assert_eq!(u[0].kind, EmailEventKind::Unsubscribed);
    assert_eq!(u[0].reason.as_deref(), Some("HardBounce"));
    let resubscribed =
        SUBSCRIPTION.replace("\"SuppressSending\": true", "\"SuppressSending\": false");
    assert_eq!(
        decode_events(resubscribed.as_bytes()).unwrap()[0].kind,
        EmailEventKind::Other("SubscriptionChange".into())
    );

    assert!(decode_events(b"[]").is_err());
    assert!(decode_events(br#"{"RecordType":"Delivery"}"#).is_err());
}

#[test]
fn bounce_types_map_on_the_type_string() {
    // Soft unless Postmark deactivated the address.
    assert_eq!(
        bounce_kind("SoftBounce", false),
        Some(EmailEventKind::Bounced { permanent: false })
    );
    assert_eq!(
        bounce_kind("Transient", true),
        Some(EmailEventKind::Bounced { permanent: true })
    );
    assert_eq!(
        bounce_kind("BadEmailAddress", false),
        Some(EmailEventKind::Bounced { permanent: true })
    );
    assert_eq!(
        bounce_kind("SpamComplaint", true),
        Some(EmailEventKind::Complained)
    );
    // An auto-reply ("out of office") is not a bounce.
    assert_eq!(bounce_kind("AutoResponder", false), None);
    let auto = HARD_BOUNCE
        .replace("\"HardBounce\"", "\"AutoResponder\"")
        .replace("\"Inactive\": true", "\"Inactive\": false");
    assert!(decode_events(auto.as_bytes()).unwrap().is_empty());
}

#[tokio::test]
async fn forged_events_are_refused_with_nothing_stored_and_retries_stored_once() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let app = WebhookRoutes::new(Arc::new(store.clone()), Arc::new(SystemClock))
        .source("postmark", Arc::new(source()))
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/postmark",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let post = |auth: Option<&'static str>| {
        let url = url.clone();
        async move {
            let mut r = reqwest::Client::new()
                .post(url)
                .header("Content-Type", "application/json")
                .header(TRACE_HEADER, "7f1a-retry-stable")
                .body(HARD_BOUNCE);
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            r.send().await.unwrap().status().as_u16()
        }
    };
    let pending = |s: SqliteStore| async move {
        s.claim(
            chrono::Utc::now() + chrono::Duration::hours(1),
            10,
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap()
    };
    // 401: Postmark drops an event on a 4xx other than 408/429, which is right for a forgery.
    assert_eq!(post(None).await, 401);
    assert_eq!(post(Some("Basic cG9zdG1hcms6d3Jvbmc=")).await, 401);
    assert!(pending(store.clone()).await.is_empty());
    assert_eq!(post(Some(GOOD)).await, 200);
    // Postmark's retry of the same call (same trace id) is not stored again.
    assert_eq!(post(Some(GOOD)).await, 200);
    let stored = pending(store).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].topic.as_deref(), Some("Bounce"));
}
