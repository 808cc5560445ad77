#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sending through a mock of the Graph API.
//!
//! Request shapes: `https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/text-messages/`
//! (text) and WhatsApp/WhatsApp-Nodejs-SDK `website/docs/api-reference/messages/template.md`
//! (template, components, URL button `sub_type: url`, `index` as a string). Response:
//! `MessagesResponse` in WhatsApp/WhatsApp-Nodejs-SDK `src/types/messages.ts`. Error bodies:
//! the Graph API error shape of
//! `https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes`
//! (its sample is the 130429 body below).

use std::sync::Arc;
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::ManualClock;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose, TemplateRef};
use aftercare_whatsapp_cloud::{WINDOW_META_KEY, WhatsAppCloudChannel};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE_ID: &str = "106540352242922";
const WAMID: &str = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";

fn accepted() -> serde_json::Value {
    serde_json::json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": "+16505551234", "wa_id": "16505551234" }],
        "messages": [{ "id": WAMID }]
    })
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap()))
}

fn channel(server: &MockServer) -> WhatsAppCloudChannel {
    WhatsAppCloudChannel::new(PHONE_ID, "EAAGtoken")
        .unwrap()
        .base_url(server.uri())
        .api_version("v23.0")
        .clock(clock())
}

fn text(window_until: Option<&str>) -> OutboundMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Whatsapp,
        "+16505551234",
        Purpose::Feedback,
        "Thanks! How did we do? https://s.example/x",
    );
    if let Some(u) = window_until {
        m.meta.insert(WINDOW_META_KEY.into(), u.into());
    }
    m
}

#[tokio::test]
async fn text_inside_window() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_ID}/messages")))
        .and(header("authorization", "Bearer EAAGtoken"))
        .and(header("content-type", "application/json"))
        .and(body_json(serde_json::json!({
            "messaging_product": "whatsapp",
            "biz_opaque_callback_data": "k",
            "recipient_type": "individual",
            "to": "+16505551234",
            "type": "text",
            "text": { "preview_url": true, "body": "Thanks! How did we do? https://s.example/x" }
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted()))
        .expect(1)
        .mount(&server)
        .await;
    let r = channel(&server)
        .send(&text(Some("2026-03-01T20:00:00Z")), "k")
        .await
        .unwrap();
    assert_eq!(r.provider_message_id, WAMID);
}

/// The key rides along as `biz_opaque_callback_data` only when Meta takes it (512 at most).
#[tokio::test]
async fn a_key_too_long_for_the_callback_data_is_left_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_json(serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+16505551234",
            "type": "text",
            "text": { "preview_url": true, "body": "Thanks! How did we do? https://s.example/x" }
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted()))
        .expect(1)
        .mount(&server)
        .await;
    channel(&server)
        .send(&text(Some("2026-03-01T20:00:00Z")), &"k".repeat(513))
        .await
        .unwrap();
}

#[tokio::test]
async fn text_outside_window_needs_a_template_and_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted()))
        .expect(0)
        .mount(&server)
        .await;
    let ch = channel(&server);
    for m in [
        text(None),
        text(Some("2026-03-01T11:59:59Z")),
        text(Some("not a time")),
    ] {
        assert!(
            matches!(
                ch.send(&m, "k").await,
                Err(SendError::TemplateRequired { .. })
            ),
            "{:?}",
            m.meta
        );
    }
}

#[tokio::test]
async fn template_is_always_sent_as_template() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_ID}/messages")))
        .and(header("authorization", "Bearer EAAGtoken"))
        .and(body_json(serde_json::json!({
            "messaging_product": "whatsapp",
            "biz_opaque_callback_data": "k",
            "recipient_type": "individual",
            "to": "+16505551234",
            "type": "template",
            "template": {
                "name": "order_delivered_survey",
                "language": { "policy": "deterministic", "code": "en_US" },
                "components": [
                    { "type": "body", "parameters": [ { "type": "text", "text": "Alex" }, { "type": "text", "text": "#1001" } ] },
                    { "type": "button", "sub_type": "url", "index": "0", "parameters": [ { "type": "text", "text": "ORDER123?score=9" } ] }
                ]
            }
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted()))
        .expect(1)
        .mount(&server)
        .await;
    // Window open or not, a template goes as a template.
    let mut m = text(Some("2026-03-01T20:00:00Z"));
    let mut t = TemplateRef::new("order_delivered_survey", "en_US");
    t.body_params = vec!["Alex".into(), "#1001".into()];
    t.url_button_param = Some("ORDER123?score=9".into());
    m.template = Some(t);
    assert_eq!(
        channel(&server)
            .send(&m, "k")
            .await
            .unwrap()
            .provider_message_id,
        WAMID
    );
}

#[test]
fn template_without_parameters_has_no_components() {
    let ch = WhatsAppCloudChannel::new(PHONE_ID, "t").unwrap();
    let mut m = text(None);
    m.to = "whatsapp:+16505551234".into();
    m.template = Some(TemplateRef::new("hello_world", "en_US"));
    assert_eq!(
        ch.request_body(&m).unwrap(),
        serde_json::json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+16505551234",
            "type": "template", "template": { "name": "hello_world", "language": { "policy": "deterministic", "code": "en_US" } }
        })
    );
    assert!(WhatsAppCloudChannel::new("", "t").is_err());
    assert!(WhatsAppCloudChannel::new(PHONE_ID, "").is_err());
}

#[derive(Debug)]
enum Want {
    Permanent(&'static str),
    Transient(Option<u64>),
    TemplateRequired,
}

fn graph_error(code: i64, message: &str, details: &str) -> serde_json::Value {
    serde_json::json!({
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": details },
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"
        }
    })
}

#[tokio::test]
async fn error_table() {
    let cases: Vec<(u16, Option<i64>, Option<&str>, Want)> = vec![
        (429, Some(130429), None, Want::Transient(Some(1))),
        (429, Some(130429), Some("9"), Want::Transient(Some(9))),
        (400, Some(131056), None, Want::Transient(Some(6))),
        (400, Some(131048), None, Want::Transient(Some(3600))),
        (400, Some(131049), None, Want::Transient(Some(86400))),
        (400, Some(4), None, Want::Transient(Some(60))),
        (400, Some(80007), None, Want::Transient(Some(60))),
        (500, Some(131000), None, Want::Transient(None)),
        (503, Some(2), None, Want::Transient(None)),
        (502, None, None, Want::Transient(None)),
        (400, Some(131047), None, Want::TemplateRequired),
        (400, Some(131026), None, Want::Permanent("131026")),
        (400, Some(131050), None, Want::Permanent("131050")),
        (400, Some(131008), None, Want::Permanent("131008")),
        (400, Some(131009), None, Want::Permanent("131009")),
        (404, Some(132001), None, Want::Permanent("132001")),
        (400, Some(368), None, Want::Permanent("368")),
        (400, Some(100), None, Want::Permanent("100")),
        (401, Some(190), None, Want::Permanent("190")),
    ];
    for (status, code, retry_after, want) in cases {
        let server = MockServer::start().await;
        let mut resp = match code {
            // The error page's sample: "(#130429) Rate limit hit" with details.
            Some(c) => ResponseTemplate::new(status).set_body_json(graph_error(
                c,
                &format!("(#{c}) described by Meta"),
                "details",
            )),
            None => ResponseTemplate::new(status).set_body_string("Bad Gateway"),
        };
        if let Some(ra) = retry_after {
            resp = resp.insert_header("Retry-After", ra);
        }
        Mock::given(method("POST"))
            .respond_with(resp)
            .expect(1)
            .mount(&server)
            .await;
        let got = channel(&server)
            .send(&text(Some("2026-03-01T20:00:00Z")), "k")
            .await
            .unwrap_err();
        let ok = match (&want, &got) {
            (
                Want::Permanent(c),
                SendError::Permanent {
                    code: Some(gc),
                    opted_out: false,
                    ..
                },
            ) => c == gc,
            (Want::Transient(w), SendError::Transient { retry_after, .. }) => {
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

#[tokio::test]
async fn error_reason_carries_details_and_trace() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            131026,
            "(#131026) Message Undeliverable.",
            "Message Undeliverable.",
        )))
        .mount(&server)
        .await;
    let err = channel(&server)
        .send(&text(Some("2026-03-01T20:00:00Z")), "k")
        .await
        .unwrap_err();
    let s = err.to_string();
    assert!(
        s.contains("131026") && s.contains("Az8or2yhqkZfEZ-_4Qn_Bam"),
        "{s}"
    );
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let ch = WhatsAppCloudChannel::new(PHONE_ID, "t")
        .unwrap()
        .base_url(format!("http://127.0.0.1:{port}"))
        .clock(clock());
    let err = ch
        .send(&text(Some("2026-03-01T20:00:00Z")), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn timeout_after_sending_is_maybe_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(accepted())
                .set_delay(Duration::from_secs(5)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let ch = channel(&server)
        .timeout(Duration::from_millis(300))
        .unwrap();
    let err = ch
        .send(&text(Some("2026-03-01T20:00:00Z")), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::MaybeSent { .. }), "{err:?}");
}

#[tokio::test]
async fn connection_dropped_after_request_is_maybe_sent() {
    use tokio::io::AsyncReadExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = Vec::new();
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            if n == 0
                || String::from_utf8_lossy(&got).contains("\"whatsapp\"") && got.ends_with(b"}")
            {
                break;
            }
        }
        drop(sock);
        got
    });
    let ch = WhatsAppCloudChannel::new(PHONE_ID, "t")
        .unwrap()
        .base_url(format!("http://127.0.0.1:{port}"))
        .clock(clock());
    let err = ch
        .send(&text(Some("2026-03-01T20:00:00Z")), "k")
        .await
        .unwrap_err();
    let got = server.await.unwrap();
    assert!(String::from_utf8_lossy(&got).starts_with("POST /v26.0/106540352242922/messages"));
    assert!(matches!(err, SendError::MaybeSent { .. }), "{err:?}");
}

#[tokio::test]
async fn accepted_without_id_is_maybe_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"messaging_product": "whatsapp", "messages": []}),
            ),
        )
        .mount(&server)
        .await;
    let err = channel(&server)
        .send(&text(Some("2026-03-01T20:00:00Z")), "k")
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::MaybeSent { .. }), "{err:?}");
}
