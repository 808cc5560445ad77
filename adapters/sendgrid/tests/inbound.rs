//! Inbound Parse requests shaped as SendGrid's "Inbound Parse Webhook" page shows them
//! (multipart/form-data: `headers`, `text`, `from`, `to`, `subject`, `envelope`,
//! `charsets`, `SPF`...), behind Basic credentials in the URL.

use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_sendgrid::SendGridInbound;
use aftercare_sendgrid::inbound::{decode_entry, strip_re};

const BOUNDARY: &str = "xYzZY";

pub fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = String::new();
    for (k, v) in fields {
        b.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    b.push_str(&format!("--{BOUNDARY}--\r\n"));
    b.into_bytes()
}

fn entry(body: Vec<u8>) -> InboxEntry {
    let now = chrono::Utc::now();
    {
        let mut entry = InboxEntry::new(1, "sendgrid-inbound", "k", body, now);
        entry.topic = Some("inbound".into());
        entry.meta = [(
            "content-type".to_owned(),
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )]
        .into();
        entry.attempts = 0;
        entry.next_attempt_at = now;
        entry
    }
}

fn reply(text: &str, subject: &str) -> Vec<u8> {
    form(&[
        (
            "headers",
            "Received: by mx.sendgrid.net\nMessage-ID: <CAF=abc@mail.gmail.com>\nIn-Reply-To: <survey-inv-1@shop.example>\nFrom: Layla <layla@example.com>",
        ),
        ("dkim", "{@example.com : pass}"),
        ("to", "Demo Shop <replies@parse.shop.example>"),
        ("text", text),
        ("from", "Layla <layla@example.com>"),
        ("sender_ip", "209.85.0.1"),
        (
            "envelope",
            "{\"to\":[\"replies@parse.shop.example\"],\"from\":\"layla@example.com\"}",
        ),
        ("subject", subject),
        (
            "charsets",
            "{\"to\":\"UTF-8\",\"text\":\"UTF-8\",\"subject\":\"UTF-8\",\"from\":\"UTF-8\"}",
        ),
        ("SPF", "pass"),
    ])
}

#[test]
fn only_requests_with_the_url_credentials_are_accepted() {
    let src = SendGridInbound::new("sendgrid", Secret::from("s3cret-path"));
    let body = reply("9", "Re: How did we do?");
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let at = chrono::Utc::now();
    // base64("sendgrid:s3cret-path")
    let ok = RawHeaders::from_pairs([
        ("Authorization", "Basic c2VuZGdyaWQ6czNjcmV0LXBhdGg="),
        ("Content-Type", ct.as_str()),
    ]);
    let v = src.verify(&WebhookRequest::new(&ok, &body, at)).unwrap();
    assert_eq!(v.meta.get("content-type"), Some(&ct));
    for auth in [
        "Basic c2VuZGdyaWQ6d3Jvbmc=",
        "Bearer c2VuZGdyaWQ6czNjcmV0LXBhdGg=",
        "",
    ] {
        let h = RawHeaders::from_pairs([("Authorization", auth), ("Content-Type", ct.as_str())]);
        assert_eq!(
            src.verify(&WebhookRequest::new(&h, &body, at)),
            Err(Rejection::Mismatch),
            "{auth:?}"
        );
    }
}

#[test]
fn an_arabic_reply_above_a_quoted_thread_becomes_its_own_text() {
    let text = "٩\r\n\r\nفي الأحد، ٧ ديسمبر ٢٠٢٦ ٩:٠٠ ص، كتب Demo Shop <shop@shop.example>:\r\n> كيف تقيّم تجربتك من 0 إلى 10؟\r\n> 0 1 2 3 4 5 6 7 8 9 10\r\n";
    let m = decode_entry(&entry(reply(text, "Re: كيف كانت تجربتك؟"))).unwrap();
    assert_eq!(m.text, "٩");
    assert_eq!(m.from, "layla@example.com");
    assert_eq!(m.to, "replies@parse.shop.example");
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("<CAF=abc@mail.gmail.com>")
    );
    assert_eq!(
        m.in_reply_to.as_deref(),
        Some("<survey-inv-1@shop.example>")
    );
}

#[test]
fn an_empty_body_falls_back_to_the_subject() {
    let m = decode_entry(&entry(reply("\r\n> quoted only", "RE: Re: unsubscribe"))).unwrap();
    assert_eq!(m.text, "unsubscribe");
    assert_eq!(strip_re("YNT: Re: STOP"), "STOP");
}

#[test]
fn a_body_that_is_not_multipart_is_a_decode_error() {
    assert!(decode_entry(&entry(b"{\"text\":\"9\"}".to_vec())).is_err());
}
