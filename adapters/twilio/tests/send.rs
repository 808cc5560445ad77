#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sending through a mock of Twilio's Messages API.
//!
//! Request shape: `https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource`
//! (POST `/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic).
//! The 201 response body is the fixture of twilio/twilio-node
//! `spec/integration/rest/api/v2010/account/message.spec.js` ("should generate valid create
//! response"). Error bodies follow `https://www.twilio.com/docs/api/errors/<code>` and the
//! REST error format `{code, message, more_info, status}`.

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Purpose, TemplateRef};
use aftercare_twilio::{Credentials, Sender, TwilioChannel};
use base64::Engine as _;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const MESSAGES: &str = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json";

fn created() -> serde_json::Value {
    serde_json::json!({
        "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "api_version": "2010-04-01",
        "body": "O Slash: \u{00d8}, PoP: \u{1f4a9}",
        "date_created": "Thu, 30 Jul 2015 20:12:31 +0000",
        "date_sent": "Thu, 30 Jul 2015 20:12:33 +0000",
        "date_updated": "Thu, 30 Jul 2015 20:12:33 +0000",
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": "+14155552345",
        "messaging_service_sid": "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "num_media": "0",
        "num_segments": "1",
        "price": "-0.00750",
        "price_unit": "USD",
        "sid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "status": "sent",
        "subresource_uris": {
            "media": "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Media.json"
        },
        "to": "+14155552345",
        "uri": "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json"
    })
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

async fn form_of_only_request(server: &MockServer) -> Vec<(String, String)> {
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    url::form_urlencoded::parse(&reqs[0].body)
        .into_owned()
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn sms_sends_form_with_basic_auth_and_returns_sid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(header(
            "authorization",
            basic(ACCOUNT, "AUTHTOKEN").as_str(),
        ))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(201).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    let ch = TwilioChannel::sms(
        ACCOUNT,
        Credentials::auth_token("AUTHTOKEN"),
        Sender::Number("+14155552345".into()),
    )
    .unwrap()
    .base_url(server.uri())
    .status_callback("https://shop.example/webhooks/twilio?x=1");
    let msg = OutboundMessage::new(
        ChannelKind::Sms,
        "+14155552346",
        Purpose::Transactional,
        "Your parcel: https://t.example/1 & more",
    );
    let r = ch.send(&msg, "k1").await.unwrap();
    assert_eq!(r.provider_message_id, "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(r.accepted_at.to_rfc3339(), "2015-07-30T20:12:31+00:00");
    assert_eq!(
        form_of_only_request(&server).await,
        pairs(&[
            ("To", "+14155552346"),
            ("From", "+14155552345"),
            ("Body", "Your parcel: https://t.example/1 & more"),
            ("StatusCallback", "https://shop.example/webhooks/twilio?x=1"),
        ])
    );
    // The raw body is form-encoded (`+` for `%2B`, `&` escaped).
    let raw = String::from_utf8(server.received_requests().await.unwrap()[0].body.clone()).unwrap();
    assert!(raw.starts_with("To=%2B14155552346&From=%2B14155552345&Body=Your+parcel%3A+https%3A%2F%2Ft.example%2F1+%26+more"), "{raw}");
}

#[tokio::test]
async fn api_key_credentials_and_messaging_service() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(header(
            "authorization",
            basic("SKbbbb", "keysecret").as_str(),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    let ch = TwilioChannel::sms(
        ACCOUNT,
        Credentials::api_key("SKbbbb", "keysecret"),
        Sender::MessagingService("MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()),
    )
    .unwrap()
    .base_url(server.uri());
    let msg = OutboundMessage::new(
        ChannelKind::Sms,
        "+14155552346",
        Purpose::Transactional,
        "hi",
    );
    ch.send(&msg, "k").await.unwrap();
    assert_eq!(
        form_of_only_request(&server).await,
        pairs(&[
            ("To", "+14155552346"),
            ("MessagingServiceSid", "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("Body", "hi")
        ])
    );
}

#[tokio::test]
async fn whatsapp_text_is_prefixed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(201).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    let ch = TwilioChannel::whatsapp(
        ACCOUNT,
        Credentials::auth_token("AUTHTOKEN"),
        Sender::Number("+14155238886".into()),
    )
    .unwrap()
    .base_url(server.uri());
    let msg = OutboundMessage::new(
        ChannelKind::Whatsapp,
        "+15552229999",
        Purpose::Transactional,
        "Olá",
    );
    ch.send(&msg, "k").await.unwrap();
    assert_eq!(
        form_of_only_request(&server).await,
        pairs(&[
            ("To", "whatsapp:+15552229999"),
            ("From", "whatsapp:+14155238886"),
            ("Body", "Olá")
        ])
    );
}

#[tokio::test]
async fn whatsapp_template_sends_content_sid_and_variables() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(201).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    let ch = TwilioChannel::whatsapp(
        ACCOUNT,
        Credentials::auth_token("AUTHTOKEN"),
        Sender::Number("whatsapp:+14155238886".into()),
    )
    .unwrap()
    .base_url(server.uri())
    .content_sid("order_shipped", "HXgeneric")
    .content_sid("order_shipped:pt_BR", "HXptbr");
    let mut msg = OutboundMessage::new(
        ChannelKind::Whatsapp,
        "+5511987654321",
        Purpose::Transactional,
        "fallback text",
    );
    let mut t = TemplateRef::new("order_shipped", "pt_BR");
    t.body_params = vec!["Ana".into(), "#1001".into()];
    t.url_button_param = Some("TRK123".into());
    msg.template = Some(t);
    ch.send(&msg, "k").await.unwrap();
    let form = form_of_only_request(&server).await;
    assert_eq!(
        form,
        pairs(&[
            ("To", "whatsapp:+5511987654321"),
            ("From", "whatsapp:+14155238886"),
            ("ContentSid", "HXptbr"),
            (
                "ContentVariables",
                r##"{"1":"Ana","2":"#1001","3":"TRK123"}"##
            ),
        ])
    );
}

#[tokio::test]
async fn template_without_content_sid_is_permanent_and_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let ch = TwilioChannel::whatsapp(
        ACCOUNT,
        Credentials::auth_token("AUTHTOKEN"),
        Sender::Number("+14155238886".into()),
    )
    .unwrap()
    .base_url(server.uri());
    let mut msg = OutboundMessage::new(
        ChannelKind::Whatsapp,
        "+15552229999",
        Purpose::Transactional,
        "x",
    );
    msg.template = Some(TemplateRef::new("unknown", "en"));
    assert!(matches!(
        ch.send(&msg, "k").await,
        Err(SendError::Permanent { code: None, .. })
    ));
}

#[test]
fn credentials_are_not_in_debug() {
    let ch = TwilioChannel::sms(
        ACCOUNT,
        Credentials::api_key("SKkey", "very-secret-value"),
        Sender::Number("+1".into()),
    )
    .unwrap();
    let d = format!("{ch:?}");
    assert!(!d.contains("very-secret-value"), "{d}");
    assert!(d.contains("SKkey"));
    assert!(
        TwilioChannel::new(
            ChannelKind::Email,
            ACCOUNT,
            Credentials::auth_token("x"),
            Sender::Number("+1".into())
        )
        .is_err()
    );
    assert!(
        TwilioChannel::sms(
            ACCOUNT,
            Credentials::auth_token(""),
            Sender::Number("+1".into())
        )
        .is_err()
    );
}

// ---- error classes, table-driven over the mock

#[derive(Debug)]
enum Want {
    Permanent { code: &'static str, opted_out: bool },
    Transient { retry_after: Option<u64> },
    TemplateRequired,
}

fn error_body(code: u32, message: &str, status: u16) -> serde_json::Value {
    serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

#[tokio::test]
async fn error_table() {
    let cases: Vec<(u16, Option<u32>, Option<&str>, Want)> = vec![
        (
            400,
            Some(21211),
            None,
            Want::Permanent {
                code: "21211",
                opted_out: false,
            },
        ),
        (
            400,
            Some(21610),
            None,
            Want::Permanent {
                code: "21610",
                opted_out: true,
            },
        ),
        (
            400,
            Some(21606),
            None,
            Want::Permanent {
                code: "21606",
                opted_out: false,
            },
        ),
        (
            400,
            Some(21608),
            None,
            Want::Permanent {
                code: "21608",
                opted_out: false,
            },
        ),
        (
            400,
            Some(21612),
            None,
            Want::Permanent {
                code: "21612",
                opted_out: false,
            },
        ),
        (
            400,
            Some(21614),
            None,
            Want::Permanent {
                code: "21614",
                opted_out: false,
            },
        ),
        (
            400,
            Some(21635),
            None,
            Want::Permanent {
                code: "21635",
                opted_out: false,
            },
        ),
        (
            401,
            Some(20003),
            None,
            Want::Permanent {
                code: "20003",
                opted_out: false,
            },
        ),
        (
            429,
            Some(20429),
            Some("7"),
            Want::Transient {
                retry_after: Some(7),
            },
        ),
        (
            429,
            None,
            Some("3"),
            Want::Transient {
                retry_after: Some(3),
            },
        ),
        (
            429,
            Some(20429),
            None,
            Want::Transient { retry_after: None },
        ),
        (400, Some(63016), None, Want::TemplateRequired),
        (
            400,
            Some(21611),
            None,
            Want::Transient {
                retry_after: Some(60),
            },
        ),
        (
            400,
            Some(63038),
            None,
            Want::Transient {
                retry_after: Some(3600),
            },
        ),
        (
            500,
            Some(20500),
            None,
            Want::Transient { retry_after: None },
        ),
        (
            503,
            None,
            Some("11"),
            Want::Transient {
                retry_after: Some(11),
            },
        ),
        (
            400,
            Some(21604),
            None,
            Want::Permanent {
                code: "21604",
                opted_out: false,
            },
        ),
    ];
    for (status, code, retry_after, want) in cases {
        let server = MockServer::start().await;
        let mut resp = match code {
            Some(c) => ResponseTemplate::new(status).set_body_json(error_body(
                c,
                "described by Twilio",
                status,
            )),
            None => ResponseTemplate::new(status).set_body_string("<html>upstream</html>"),
        };
        if let Some(ra) = retry_after {
            resp = resp.insert_header("Retry-After", ra);
        }
        Mock::given(method("POST"))
            .and(path(MESSAGES))
            .respond_with(resp)
            .expect(1)
            .mount(&server)
            .await;
        let ch = TwilioChannel::whatsapp(
            ACCOUNT,
            Credentials::auth_token("AUTHTOKEN"),
            Sender::Number("+14155238886".into()),
        )
        .unwrap()
        .base_url(server.uri());
        let msg = OutboundMessage::new(
            ChannelKind::Whatsapp,
            "+15552229999",
            Purpose::Transactional,
            "x",
        );
        let got = ch.send(&msg, "k").await.unwrap_err();
        let ok = match (&want, &got) {
            (
                Want::Permanent {
                    code: wc,
                    opted_out: wo,
                },
                SendError::Permanent {
                    code: Some(c),
                    opted_out,
                    ..
                },
            ) => wc == c && wo == opted_out,
            (Want::Transient { retry_after: w }, SendError::Transient { retry_after, .. }) => {
                *w == retry_after.map(|d| d.as_secs())
            }
            (Want::TemplateRequired, SendError::TemplateRequired { .. }) => true,
            _ => false,
        };
        assert!(
            ok,
            "HTTP {status} code {code:?}: wanted {want:?}, got {got:?}"
        );
    }
}

#[test]
fn retry_after_http_date() {
    let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(
        aftercare_twilio::errors::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        aftercare_twilio::errors::parse_retry_after("soon", now),
        None
    );
}

// ---- transport failures

fn sms_to(base: String) -> TwilioChannel {
    TwilioChannel::sms(
        ACCOUNT,
        Credentials::auth_token("AUTHTOKEN"),
        Sender::Number("+14155552345".into()),
    )
    .unwrap()
    .base_url(base)
}

fn msg() -> OutboundMessage {
    OutboundMessage::new(
        ChannelKind::Sms,
        "+14155552346",
        Purpose::Transactional,
        "hi",
    )
}

#[tokio::test]
async fn connection_refused_is_transient() {
    // A port that was just free: nothing listens there.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let err = sms_to(format!("http://127.0.0.1:{port}"))
        .send(&msg(), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn timeout_after_sending_is_maybe_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(created())
                .set_delay(Duration::from_secs(5)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let ch = sms_to(server.uri())
        .timeout(Duration::from_millis(300))
        .unwrap();
    let err = ch.send(&msg(), "k").await.unwrap_err();
    assert!(matches!(err, SendError::MaybeSent { .. }), "{err:?}");
}

#[tokio::test]
async fn connection_dropped_after_request_is_maybe_sent() {
    use tokio::io::AsyncReadExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        // Read the whole request (headers and the small form body), then hang up unanswered.
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = Vec::new();
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&got).contains("Body=hi") {
                break;
            }
        }
        drop(sock);
        got
    });
    let err = sms_to(format!("http://127.0.0.1:{port}"))
        .send(&msg(), "k")
        .await
        .unwrap_err();
    let got = server.await.unwrap();
    assert!(String::from_utf8_lossy(&got).starts_with("POST /2010-04-01/Accounts/"));
    assert!(matches!(err, SendError::MaybeSent { .. }), "{err:?}");
}

#[tokio::test]
async fn accepted_but_unreadable_answer_is_maybe_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string("not json"))
        .mount(&server)
        .await;
    let err = sms_to(server.uri()).send(&msg(), "k").await.unwrap_err();
    assert!(matches!(err, SendError::MaybeSent { .. }), "{err:?}");
}
