//! `SmtpChannel` against a real SMTP server (aiosmtpd, started per test by `common`),
//! asserting on the MIME that arrived, parsed by Python's `email` package.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare_smtp::{
    META_LIST_UNSUBSCRIBE, META_LIST_UNSUBSCRIBE_MAILTO, Security, SmtpChannel, SmtpConfig,
    message_id,
};
use common::{Certs, Server, certs, headers, raw_header_block};

const FROM: &str = "Dukkan <orders@shop.example>";
const UNSUB: &str = "https://shop.example/u/eyJvcmRlciI6MTAwMX0.sig-Abc_123";

fn config(server: &Server, security: Security, certs: Option<&Certs>) -> SmtpConfig {
    let mut c = SmtpConfig::new("127.0.0.1", server.port, security, FROM)
        .reply_to("Support <help@shop.example>")
        .hello_name("mailer.shop.example")
        .timeout(Duration::from_secs(10))
        .tls_server_name("localhost");
    if let Some(certs) = certs {
        c = c.add_root_certificate_pem(certs.ca_pem.as_bytes().to_vec());
    }
    c
}

fn lf(s: &str) -> String {
    s.replace("\r\n", "\n")
}

fn arabic_feedback() -> OutboundMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Email,
        "layla@example.com",
        Purpose::Feedback,
        "مرحبًا ليلى،\nكيف كانت تجربتك مع طلبك رقم \u{2066}#1001\u{2069}؟\nhttps://shop.example/s/abc?x=1&y=2\n",
    );
    m.locale = "ar".into();
    m.subject = Some("رأيك يهمّنا: طلبك رقم 1001".into());
    m.html = Some(
        "<div dir=\"rtl\" lang=\"ar\">مرحبًا ليلى، <bdi dir=\"ltr\">#1001</bdi> &amp; <a dir=\"ltr\" href=\"https://shop.example/s/abc?x=1&amp;y=2\">https://shop.example/s/abc?x=1&amp;y=2</a></div>".into(),
    );
    m.meta.insert(META_LIST_UNSUBSCRIBE.into(), UNSUB.into());
    m.meta.insert(
        META_LIST_UNSUBSCRIBE_MAILTO.into(),
        "unsubscribe@shop.example".into(),
    );
    m
}

fn thai_tracking() -> OutboundMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Email,
        "somchai@example.com",
        Purpose::Transactional,
        "สวัสดีคุณสมชาย พัสดุของคุณถูกจัดส่งแล้ว หมายเลขพัสดุ TH1234567890\n",
    );
    m.locale = "th".into();
    m.subject = Some("คำสั่งซื้อ #1002 ของคุณถูกจัดส่งแล้ว".into());
    // A URL for unsubscribing on a transactional message must not produce the headers.
    m.meta.insert(META_LIST_UNSUBSCRIBE.into(), UNSUB.into());
    m
}

#[tokio::test]
async fn starttls_with_auth_delivers_arabic_multipart_and_thai_text() {
    let certs = certs();
    let server = Server::start("starttls", Some(certs.files()), Some(("shop", "s3cret-pw")));
    let channel = SmtpChannel::new(
        config(&server, Security::StartTlsRequired, Some(&certs)).credentials("shop", "s3cret-pw"),
    )
    .unwrap();

    let ar = arabic_feedback();
    let receipt = channel.send(&ar, "survey:1001:email").await.unwrap();
    assert_eq!(
        receipt.provider_message_id,
        message_id("survey:1001:email", "shop.example")
    );
    let th = thai_tracking();
    channel
        .send(&th, "tracking:1002:f1:shipped:email")
        .await
        .unwrap();

    let got = server.messages();
    assert_eq!(got.len(), 2);

    // --- the Arabic feedback message
    let (s, raw) = &got[0];
    assert_eq!(s["tls"], true, "STARTTLS was negotiated");
    assert_eq!(s["authenticated"], true);
    assert_eq!(s["mail_from"], "orders@shop.example");
    assert_eq!(s["rcpt_tos"], serde_json::json!(["layla@example.com"]));
    assert_eq!(s["content_type"], "multipart/alternative");
    assert_eq!(headers(s, "Subject"), vec![ar.subject.as_deref().unwrap()]);
    assert_eq!(headers(s, "From"), vec![FROM]);
    assert_eq!(headers(s, "Reply-To"), vec!["Support <help@shop.example>"]);
    assert_eq!(
        headers(s, "Message-ID"),
        vec![message_id("survey:1001:email", "shop.example").as_str()]
    );
    assert_eq!(
        headers(s, "List-Unsubscribe"),
        vec![format!("<{UNSUB}>, <mailto:unsubscribe@shop.example>").as_str()]
    );
    assert_eq!(
        headers(s, "List-Unsubscribe-Post"),
        vec!["List-Unsubscribe=One-Click"]
    );
    let parts = s["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(parts[0]["charset"], "utf-8");
    // MIME text is canonically CRLF; apart from that the text arrives byte for byte.
    assert_eq!(
        lf(parts[0]["text"].as_str().unwrap()),
        ar.text,
        "text part decodes to the exact input"
    );
    assert_eq!(parts[1]["content_type"], "text/html");
    assert_eq!(
        lf(parts[1]["text"].as_str().unwrap()).trim_end(),
        ar.html.as_deref().unwrap()
    );
    // On the wire the header block is 7-bit: the Arabic subject is RFC 2047 encoded and the
    // one-click header is exactly as RFC 8058 writes it.
    let head = raw_header_block(raw);
    assert!(
        head.is_ascii(),
        "headers must be ASCII on the wire:\n{head}"
    );
    assert!(head.contains("Subject: =?utf-8?"), "{head}");
    assert!(
        head.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
        "{head}"
    );

    // --- the Thai transactional message
    let (s, raw) = &got[1];
    assert_eq!(s["content_type"], "text/plain");
    assert_eq!(headers(s, "Subject"), vec![th.subject.as_deref().unwrap()]);
    assert!(
        headers(s, "List-Unsubscribe").is_empty(),
        "transactional mail has no List-Unsubscribe"
    );
    assert!(headers(s, "List-Unsubscribe-Post").is_empty());
    let parts = s["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(lf(parts[0]["text"].as_str().unwrap()), th.text);
    assert!(raw_header_block(raw).is_ascii());
}

#[tokio::test]
async fn same_idempotency_key_gives_the_same_message_id_across_sends() {
    let server = Server::start("plain", None, None);
    let channel = SmtpChannel::new(config(&server, Security::Plain, None)).unwrap();
    let m = thai_tracking();
    channel
        .send(&m, "tracking:1002:f1:shipped:email")
        .await
        .unwrap();
    // A resend after a crash: a new channel (new process), same key.
    let again = SmtpChannel::new(config(&server, Security::Plain, None)).unwrap();
    again
        .send(&m, "tracking:1002:f1:shipped:email")
        .await
        .unwrap();
    again
        .send(&m, "tracking:1002:f1:delivered:email")
        .await
        .unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 3);
    let ids: Vec<&str> = got
        .iter()
        .map(|(s, _)| headers(s, "Message-ID")[0])
        .collect();
    assert_eq!(ids[0], ids[1], "same key, same Message-ID");
    assert_ne!(ids[0], ids[2], "another key, another Message-ID");
    assert_eq!(
        ids[0],
        message_id("tracking:1002:f1:shipped:email", "shop.example")
    );
    assert_eq!(got[0].0["tls"], false);
}

#[tokio::test]
async fn marketing_gets_one_click_headers_and_transactional_does_not() {
    let server = Server::start("plain", None, None);
    let channel = SmtpChannel::new(
        config(&server, Security::Plain, None).unsubscribe_mailto("mailto:u@shop.example"),
    )
    .unwrap();
    for (i, purpose) in [
        Purpose::Marketing,
        Purpose::Transactional,
        Purpose::Feedback,
    ]
    .into_iter()
    .enumerate()
    {
        let mut m =
            OutboundMessage::new(ChannelKind::Email, "ana@example.com", purpose, "Olá, Ana!");
        m.meta.insert(META_LIST_UNSUBSCRIBE.into(), UNSUB.into());
        channel.send(&m, &format!("k{i}")).await.unwrap();
    }
    let got = server.messages();
    let lu: Vec<Vec<&str>> = got
        .iter()
        .map(|(s, _)| headers(s, "List-Unsubscribe"))
        .collect();
    let expected = format!("<{UNSUB}>, <mailto:u@shop.example>");
    assert_eq!(lu[0], vec![expected.as_str()]);
    assert!(lu[1].is_empty());
    assert_eq!(lu[2], vec![expected.as_str()]);
    assert_eq!(
        headers(&got[1].0, "List-Unsubscribe-Post"),
        Vec::<&str>::new()
    );
    // Without a subject the first line is used.
    assert_eq!(headers(&got[0].0, "Subject"), vec!["Olá, Ana!"]);
}

#[tokio::test]
async fn an_unsubscribe_url_that_is_not_https_is_refused_before_connecting() {
    let channel = SmtpChannel::new(SmtpConfig::new("127.0.0.1", 9, Security::Plain, FROM)).unwrap();
    let mut m = OutboundMessage::new(ChannelKind::Email, "a@example.com", Purpose::Marketing, "x");
    m.meta.insert(
        META_LIST_UNSUBSCRIBE.into(),
        "http://shop.example/u>\r\nBcc: x@evil.example".into(),
    );
    let err = channel.send(&m, "k").await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let certs = certs();
    let server = Server::start("tls", Some(certs.files()), Some(("shop", "pw")));
    let channel = SmtpChannel::new(
        config(&server, Security::ImplicitTls, Some(&certs)).credentials("shop", "pw"),
    )
    .unwrap();
    channel.send(&arabic_feedback(), "k1").await.unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0["tls"], true);
    assert_eq!(got[0].0["authenticated"], true);
}

#[tokio::test]
async fn a_certificate_nobody_trusts_fails_transiently_and_sends_nothing() {
    let certs = certs();
    let server = Server::start("tls", Some(certs.files()), None);
    let channel = SmtpChannel::new(config(&server, Security::ImplicitTls, None)).unwrap();
    let err = channel.send(&arabic_feedback(), "k1").await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn wrong_password_is_permanent_535() {
    let certs = certs();
    let server = Server::start("starttls", Some(certs.files()), Some(("shop", "right")));
    let channel = SmtpChannel::new(
        config(&server, Security::StartTlsRequired, Some(&certs)).credentials("shop", "wrong"),
    )
    .unwrap();
    let err = channel.send(&thai_tracking(), "k").await.unwrap_err();
    match &err {
        SendError::Permanent { code, .. } => assert_eq!(code.as_deref(), Some("535")),
        other => panic!("expected a permanent 535, got {other:?}"),
    }
    assert!(
        !err.to_string().contains("wrong"),
        "the password must not leak into errors: {err}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn rejected_recipient_is_permanent_550_and_a_451_is_transient() {
    let server = Server::start("plain", None, None);
    let channel = SmtpChannel::new(config(&server, Security::Plain, None)).unwrap();
    let mut m = thai_tracking();
    m.to = "reject-me@example.com".into();
    match channel.send(&m, "k1").await.unwrap_err() {
        SendError::Permanent {
            code,
            reason,
            opted_out,
        } => {
            assert_eq!(code.as_deref(), Some("550"));
            assert!(reason.contains("User unknown"), "{reason}");
            assert!(!opted_out);
        }
        other => panic!("expected a permanent 550, got {other:?}"),
    }
    m.to = "busy@example.com".into();
    let err = channel.send(&m, "k2").await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn connection_dropped_after_data_is_maybe_sent() {
    let server = Server::start("plain", None, None);
    let channel = SmtpChannel::new(config(&server, Security::Plain, None)).unwrap();
    let mut m = thai_tracking();
    m.to = "drop@example.com".into();
    let err = channel.send(&m, "k").await.unwrap_err();
    assert!(matches!(err, SendError::MaybeSent { .. }), "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_transient() {
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let channel =
        SmtpChannel::new(SmtpConfig::new("127.0.0.1", port, Security::Plain, FROM)).unwrap();
    let err = channel.send(&thai_tracking(), "k").await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn starttls_required_against_a_server_without_it_is_permanent() {
    let server = Server::start("plain", None, None);
    let channel = SmtpChannel::new(config(&server, Security::StartTlsRequired, None)).unwrap();
    let err = channel.send(&thai_tracking(), "k").await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn opportunistic_starttls_upgrades_when_offered_and_never_sends_credentials_in_clear() {
    let certs = certs();
    let tls_server = Server::start("starttls", Some(certs.files()), None);
    let channel = SmtpChannel::new(config(
        &tls_server,
        Security::StartTlsOpportunistic,
        Some(&certs),
    ))
    .unwrap();
    channel.send(&thai_tracking(), "k").await.unwrap();
    assert_eq!(tls_server.messages()[0].0["tls"], true);

    let plain = Server::start("plain", None, None);
    let channel = SmtpChannel::new(config(&plain, Security::StartTlsOpportunistic, None)).unwrap();
    channel.send(&thai_tracking(), "k").await.unwrap();
    assert_eq!(plain.messages()[0].0["tls"], false);

    let with_creds = SmtpChannel::new(
        config(&plain, Security::StartTlsOpportunistic, None).credentials("u", "p"),
    )
    .unwrap();
    let err = with_creds.send(&thai_tracking(), "k2").await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert_eq!(plain.messages().len(), 1);
}

#[test]
fn debug_output_never_shows_the_password() {
    let c = SmtpConfig::new("smtp.example.com", 587, Security::StartTlsRequired, FROM)
        .credentials("user", "hunter2-pw");
    let ch = SmtpChannel::new(c.clone()).unwrap();
    assert!(!format!("{c:?}").contains("hunter2-pw"));
    assert!(!format!("{ch:?}").contains("hunter2-pw"));
    assert!(format!("{c:?}").contains("***"));
}

#[tokio::test]
async fn a_non_email_message_is_refused() {
    let channel = SmtpChannel::new(SmtpConfig::new("127.0.0.1", 9, Security::Plain, FROM)).unwrap();
    let m = OutboundMessage::new(
        ChannelKind::Sms,
        "+905321234567",
        Purpose::Transactional,
        "x",
    );
    assert!(matches!(
        channel.send(&m, "k").await,
        Err(SendError::Permanent { .. })
    ));
}

#[tokio::test]
async fn unknown_host_is_transient() {
    let channel = SmtpChannel::new(
        SmtpConfig::new(
            "no-such-host.invalid",
            587,
            Security::StartTlsRequired,
            FROM,
        )
        .timeout(Duration::from_secs(3)),
    )
    .unwrap();
    let err = channel.send(&thai_tracking(), "k").await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
}

#[test]
fn bad_configuration_is_refused_with_a_clear_error() {
    use aftercare_smtp::SmtpError;
    let err = SmtpChannel::new(SmtpConfig::new(
        "h",
        465,
        Security::ImplicitTls,
        "not a mailbox",
    ))
    .unwrap_err();
    assert!(
        matches!(err, SmtpError::InvalidMailbox { field: "from", .. }),
        "{err}"
    );
    let err =
        SmtpChannel::new(SmtpConfig::new("h", 465, Security::ImplicitTls, FROM).reply_to("@@"))
            .unwrap_err();
    assert!(
        matches!(
            err,
            SmtpError::InvalidMailbox {
                field: "reply_to",
                ..
            }
        ),
        "{err}"
    );
    let err = SmtpChannel::new(
        SmtpConfig::new("h", 465, Security::ImplicitTls, FROM)
            .add_root_certificate_pem(b"-----BEGIN CERTIFICATE-----\nnope\n".to_vec()),
    )
    .unwrap_err();
    assert!(matches!(err, SmtpError::InvalidCertificate(_)), "{err}");
    let err = SmtpChannel::new(
        SmtpConfig::new("h", 465, Security::ImplicitTls, FROM).message_id_domain("a b"),
    )
    .unwrap_err();
    assert!(matches!(err, SmtpError::InvalidDomain(_)), "{err}");
}

#[tokio::test]
async fn message_id_uses_the_configured_domain_and_reply_to_meta_overrides() {
    let channel = SmtpChannel::new(
        SmtpConfig::new("h", 25, Security::Plain, FROM)
            .message_id_domain("mail.shop.example")
            .reply_to("Support <help@shop.example>"),
    )
    .unwrap();
    let mut m = thai_tracking();
    m.meta.insert(
        aftercare_smtp::META_REPLY_TO.into(),
        "Ops <ops@shop.example>".into(),
    );
    let raw = String::from_utf8(channel.build_message(&m, "key-1").unwrap().formatted()).unwrap();
    assert!(
        raw.contains(&format!(
            "Message-ID: {}\r\n",
            message_id("key-1", "mail.shop.example")
        )),
        "{raw}"
    );
    assert!(
        raw.contains("Reply-To: Ops <ops@shop.example>\r\n"),
        "{raw}"
    );
    // The documented format: the first 32 hex digits of sha256(key).
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(b"key-1"));
    assert_eq!(
        message_id("key-1", "d.example"),
        format!("<{}@d.example>", &digest[..32])
    );
}

#[tokio::test]
async fn without_an_https_url_only_a_mailto_list_unsubscribe_and_no_one_click() {
    let channel = SmtpChannel::new(
        SmtpConfig::new("h", 25, Security::Plain, FROM).unsubscribe_mailto("u@shop.example"),
    )
    .unwrap();
    let m = OutboundMessage::new(ChannelKind::Email, "a@example.com", Purpose::Feedback, "x");
    let raw = String::from_utf8(channel.build_message(&m, "k").unwrap().formatted()).unwrap();
    assert!(
        raw.contains("List-Unsubscribe: <mailto:u@shop.example>\r\n"),
        "{raw}"
    );
    assert!(!raw.contains("List-Unsubscribe-Post"), "{raw}");
    let bare = SmtpChannel::new(SmtpConfig::new("h", 25, Security::Plain, FROM)).unwrap();
    let raw = String::from_utf8(bare.build_message(&m, "k").unwrap().formatted()).unwrap();
    assert!(!raw.contains("List-Unsubscribe"), "{raw}");
}
