//! The inbound webhook as Postmark's page shows it (postmarkapp.com/developer/webhooks/
//! inbound-webhook, the example payload: `FromFull`, `ToFull`, `OriginalRecipient`,
//! `MailboxHash`, `TextBody`, `StrippedTextReply`, `Headers[{Name, Value}]`...).

use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_postmark::PostmarkInbound;
use aftercare_postmark::inbound::{decode_entry, strip_re};
use serde_json::json;

fn payload(text: &str, stripped: &str, subject: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "FromName": "Layla",
        "MessageStream": "inbound",
        "From": "layla@example.com",
        "FromFull": {"Email": "layla@example.com", "Name": "Layla", "MailboxHash": ""},
        "To": "\"Demo Shop\" <451d9b70cf9364d23ff6f9d51d870251569e+inv1@inbound.postmarkapp.com>",
        "ToFull": [{"Email": "451d9b70cf9364d23ff6f9d51d870251569e+inv1@inbound.postmarkapp.com", "Name": "Demo Shop", "MailboxHash": "inv1"}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "451d9b70cf9364d23ff6f9d51d870251569e+inv1@inbound.postmarkapp.com",
        "Subject": subject,
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "inv1",
        "Date": "Fri, 1 Aug 2014 16:45:32 -04:00",
        "TextBody": text,
        "HtmlBody": "",
        "StrippedTextReply": stripped,
        "Tag": "",
        "Headers": [
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Message-ID", "Value": "<CAF=abc@mail.gmail.com>"},
            {"Name": "In-Reply-To", "Value": "<survey-inv-1@shop.example>"}
        ],
        "Attachments": []
    }))
    .unwrap()
}

fn entry(body: Vec<u8>) -> InboxEntry {
    let now = chrono::Utc::now();
    {
        let mut entry = InboxEntry::new(1, "postmark-inbound", "k", body, now);
        entry.topic = Some("inbound".into());
        entry.meta = Default::default();
        entry.attempts = 0;
        entry.next_attempt_at = now;
        entry
    }
}

#[test]
fn only_requests_with_the_url_credentials_are_accepted_keyed_by_message_id() {
    let src = PostmarkInbound::new("postmark", Secret::from("inbound-pass-0123456789")).unwrap();
    let body = payload("9", "9", "Re: How did we do?");
    let at = chrono::Utc::now();
    // base64("postmark:inbound-pass-0123456789")
    let ok = RawHeaders::from_pairs([(
        "Authorization",
        "Basic cG9zdG1hcms6aW5ib3VuZC1wYXNzLTAxMjM0NTY3ODk=",
    )]);
    let v = src.verify(&WebhookRequest::new(&ok, &body, at)).unwrap();
    assert_eq!(v.topic.as_deref(), Some("inbound"));
    assert_eq!(
        v.dedupe_key,
        "pm-inbound:73e6d360-66eb-11e1-8e72-a8904824019b"
    );
    let bad = RawHeaders::from_pairs([("Authorization", "Basic cG9zdG1hcms6eA==")]);
    assert_eq!(
        src.verify(&WebhookRequest::new(&bad, &body, at)),
        Err(Rejection::Mismatch)
    );
    assert!(PostmarkInbound::new("postmark", Secret::from("")).is_err());
}

#[test]
fn an_arabic_reply_above_a_quoted_thread_becomes_its_own_text() {
    let text = "٩\r\n\r\nفي الأحد، ٧ ديسمبر ٢٠٢٦ ٩:٠٠ ص، كتب Demo Shop <shop@shop.example>:\r\n> كيف تقيّم تجربتك من 0 إلى 10؟\r\n> 0 1 2 3 4 5 6 7 8 9 10\r\n";
    // Postmark's own stripping misses the Arabic separator: the adapter does not use it.
    let m = decode_entry(&entry(payload(text, text, "Re: كيف كانت تجربتك؟"))).unwrap();
    assert_eq!(m.text, "٩");
    assert_eq!(m.from, "layla@example.com");
    assert_eq!(
        m.to,
        "451d9b70cf9364d23ff6f9d51d870251569e+inv1@inbound.postmarkapp.com"
    );
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
fn an_empty_body_falls_back_to_the_stripped_reply_then_the_subject() {
    let m = decode_entry(&entry(payload("> quoted only", "10", "Re: x"))).unwrap();
    assert_eq!(m.text, "10");
    let m = decode_entry(&entry(payload("> quoted only", "", "RE: Re: unsubscribe"))).unwrap();
    assert_eq!(m.text, "unsubscribe");
    assert_eq!(strip_re("رد: STOP"), "STOP");
}

#[test]
fn a_body_without_a_sender_is_a_decode_error() {
    assert!(decode_entry(&entry(b"{\"TextBody\":\"9\"}".to_vec())).is_err());
    assert!(decode_entry(&entry(b"not json".to_vec())).is_err());
}
