#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Decoding Meta's `whatsapp_business_account` webhooks. Payloads follow Meta's webhook
//! reference pages, each named on its fixture:
//! `https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/<type>/`.

use aftercare::model::{ChannelKind, DeliveryStatus, PlatformEvent};
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, WebhookRequest, WebhookSource};
use aftercare_whatsapp_cloud::webhook::{
    StatusUpdate, TOPIC_MESSAGES, TOPIC_OTHER, TOPIC_STATUSES, WhatsAppCloudWebhook, decode_entry,
    parse_webhook,
};
use chrono::Utc;

fn envelope(value: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "changes": [{ "value": value, "field": "messages" }] }]
    }))
    .unwrap()
}

fn value(messages: serde_json::Value, statuses: Option<serde_json::Value>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
        "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234" }],
        "messages": messages
    });
    if let Some(s) = statuses {
        v.as_object_mut().unwrap().remove("messages");
        v.as_object_mut().unwrap().remove("contacts");
        v["statuses"] = s;
    }
    v
}

/// `.../messages/text/`
fn text_payload() -> Vec<u8> {
    envelope(value(
        serde_json::json!([{
            "from": "16505551234",
            "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            "timestamp": "1749416383",
            "type": "text",
            "text": { "body": "Does it come in another color?" }
        }]),
        None,
    ))
}

#[test]
fn inbound_text() {
    let b = parse_webhook(&text_payload(), Utc::now()).unwrap();
    assert_eq!(b.messages.len(), 1);
    let m = &b.messages[0];
    assert_eq!(m.channel, ChannelKind::Whatsapp);
    assert_eq!(m.from, "+16505551234");
    assert_eq!(m.to, "+15550783881");
    assert_eq!(m.text, "Does it come in another color?");
    assert_eq!(m.button_payload, None);
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")
    );
    assert_eq!(m.received_at.timestamp(), 1_749_416_383);
    assert_eq!(
        b.dedupe_key().unwrap(),
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
}

/// `.../messages/button/` (a template quick-reply tapped)
#[test]
fn inbound_template_quick_reply_button() {
    let body = envelope(value(
        serde_json::json!([{
            "context": { "from": "15550783881", "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1QjJGRjI1RDY0RkE4Nzg4QzcA" },
            "from": "16505551234",
            "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
            "timestamp": "1750032479",
            "type": "button",
            "button": { "payload": "NPS_10", "text": "10 - Extremely likely" }
        }]),
        None,
    ));
    let m = &parse_webhook(&body, Utc::now()).unwrap().messages[0];
    assert_eq!(m.text, "10 - Extremely likely");
    assert_eq!(m.button_payload.as_deref(), Some("NPS_10"));
    assert_eq!(
        m.in_reply_to.as_deref(),
        Some("wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1QjJGRjI1RDY0RkE4Nzg4QzcA")
    );
}

/// `.../messages/interactive/` (reply button and list row)
#[test]
fn inbound_interactive_replies() {
    let body = envelope(value(
        serde_json::json!([
            {
                "context": { "from": "15550783881", "id": "wamid.ctx1" },
                "from": "16505551234", "id": "wamid.btn", "timestamp": "1750025136",
                "type": "interactive",
                "interactive": { "type": "button_reply", "button_reply": { "id": "CSAT_5", "title": "Very satisfied" } }
            },
            {
                "context": { "from": "15550783881", "id": "wamid.ctx2" },
                "from": "16505551234", "id": "wamid.list", "timestamp": "1750025137",
                "type": "interactive",
                "interactive": { "type": "list_reply", "list_reply": { "id": "NPS_7", "title": "7", "description": "Likely" } }
            }
        ]),
        None,
    ));
    let b = parse_webhook(&body, Utc::now()).unwrap();
    assert_eq!(
        (
            b.messages[0].text.as_str(),
            b.messages[0].button_payload.as_deref()
        ),
        ("Very satisfied", Some("CSAT_5"))
    );
    assert_eq!(
        (
            b.messages[1].text.as_str(),
            b.messages[1].button_payload.as_deref()
        ),
        ("7", Some("NPS_7"))
    );
    assert_eq!(b.messages[1].in_reply_to.as_deref(), Some("wamid.ctx2"));
    assert!(b.dedupe_key().unwrap().starts_with("batch:"));
}

/// `.../messages/status/`
#[test]
fn statuses() {
    let body = envelope(value(
        serde_json::Value::Null,
        Some(serde_json::json!([
            { "id": "wamid.A", "status": "sent", "timestamp": "1750263773", "recipient_id": "16505551234",
              "conversation": { "id": "c1", "origin": { "type": "utility" } },
              "pricing": { "billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular" } },
            { "id": "wamid.A", "status": "delivered", "timestamp": "1750263774", "recipient_id": "16505551234" },
            { "id": "wamid.A", "status": "read", "timestamp": "1750263775", "recipient_id": "16505551234" },
            { "id": "wamid.B", "status": "failed", "timestamp": "1750263776", "recipient_id": "16505551234",
              "errors": [{ "code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                           "error_data": { "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
                           "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/" }] },
            { "id": "wamid.C", "status": "played", "timestamp": "1750263777", "recipient_id": "16505551234" },
            // As the messages reference shows it: the string the message was sent with.
            { "id": "wamid.D", "status": "delivered", "timestamp": "1750263778", "recipient_id": "16505551234",
              "biz_opaque_callback_data": "tracking:1001:1:shipped:whatsapp" }
        ])),
    ));
    let b = parse_webhook(&body, Utc::now()).unwrap();
    let got: Vec<(&str, &DeliveryStatus)> = b
        .statuses
        .iter()
        .map(|s| (s.message_id.as_str(), &s.status))
        .collect();
    assert_eq!(
        got,
        vec![
            ("wamid.A", &DeliveryStatus::Sent),
            ("wamid.A", &DeliveryStatus::Delivered),
            ("wamid.A", &DeliveryStatus::Read),
            (
                "wamid.B",
                &DeliveryStatus::Failed {
                    code: Some("131047".into())
                }
            ),
            ("wamid.C", &DeliveryStatus::Unknown("played".into())),
            ("wamid.D", &DeliveryStatus::Delivered),
        ]
    );
    assert_eq!(b.statuses[0].callback_data, None);
    assert_eq!(
        b.statuses[5].callback_data.as_deref(),
        Some("tracking:1001:1:shipped:whatsapp")
    );
    assert_eq!(b.statuses[0].recipient.as_deref(), Some("+16505551234"));
    assert_eq!(b.statuses[3].at.unwrap().timestamp(), 1_750_263_776);
    assert_eq!(b.statuses[1].dedupe_key(), "wamid.A:delivered");
}

#[test]
fn not_whatsapp_is_a_decode_error() {
    assert!(parse_webhook(br#"{"object":"page","entry":[]}"#, Utc::now()).is_err());
    assert!(parse_webhook(b"not json", Utc::now()).is_err());
}

fn request<'a>(h: &'a RawHeaders, body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest::new(h, body, Utc::now())
}

#[test]
fn source_keys_and_topics() {
    let src = WhatsAppCloudWebhook::new("app-secret");
    let body = text_payload();
    let h = src.sign(&body);
    let v = src.verify(&request(&h, &body)).unwrap();
    assert_eq!(v.topic.as_deref(), Some(TOPIC_MESSAGES));
    assert_eq!(
        v.dedupe_key,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );

    let status = envelope(value(
        serde_json::Value::Null,
        Some(
            serde_json::json!([{ "id": "wamid.A", "status": "delivered", "timestamp": "1750263774", "recipient_id": "16505551234" }]),
        ),
    ));
    let h = src.sign(&status);
    let v = src.verify(&request(&h, &status)).unwrap();
    assert_eq!(v.topic.as_deref(), Some(TOPIC_STATUSES));
    assert_eq!(v.dedupe_key, "wamid.A:delivered");

    let entry = {
        let mut entry = InboxEntry::new(
            1,
            "whatsapp",
            v.dedupe_key.clone(),
            status.clone(),
            Utc::now(),
        );
        entry.topic = v.topic.clone();
        entry.meta = Default::default();
        entry.attempts = 1;
        entry.next_attempt_at = Utc::now();
        entry
    };
    assert_eq!(
        src.decode(&entry).unwrap(),
        vec![PlatformEvent::Unrecognized {
            topic: TOPIC_STATUSES.into()
        }]
    );
    let b = decode_entry(&entry).unwrap();
    let s: &StatusUpdate = &b.statuses[0];
    assert_eq!(s.status, DeliveryStatus::Delivered);
    let mut broken = entry.clone();
    broken.body = b"{}".to_vec();
    assert!(src.decode(&broken).is_err());
}

fn stored(body: &[u8], topic: Option<String>) -> InboxEntry {
    {
        let mut entry = InboxEntry::new(1, "whatsapp", "k", body.to_vec(), Utc::now());
        entry.topic = topic;
        entry.meta = Default::default();
        entry.attempts = 1;
        entry.next_attempt_at = Utc::now();
        entry
    }
}

/// A change of another field is not read as messages, even when its value looks like one:
/// it is counted, and the body decodes to `Unrecognized` (`whatsapp/other`), never to a
/// message.
#[test]
fn changes_of_another_field_are_not_messages() {
    let src = WhatsAppCloudWebhook::new("app-secret").phone_number_id("106540352242922");
    let looks_like_messages = String::from_utf8(text_payload())
        .unwrap()
        .replace("\"field\":\"messages\"", "\"field\":\"smb_message_echoes\"");
    // Meta's account_update reference shape.
    let account_update = serde_json::to_vec(&serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "time": 1739321024, "changes": [{
            "value": { "phone_number": "15550783881", "event": "VERIFIED_ACCOUNT" },
            "field": "account_update"
        }]}]
    }))
    .unwrap();
    for (body, field) in [
        (looks_like_messages.into_bytes(), "smb_message_echoes"),
        (account_update, "account_update"),
    ] {
        let b = parse_webhook(&body, Utc::now()).unwrap();
        assert!(b.messages.is_empty() && b.statuses.is_empty(), "{field}");
        assert_eq!(b.other_fields, vec![field.to_owned()]);
        let h = src.sign(&body);
        let v = src.verify(&request(&h, &body)).unwrap();
        assert_eq!(v.topic.as_deref(), Some(TOPIC_OTHER));
        assert_eq!(
            src.decode(&stored(&body, v.topic)).unwrap(),
            vec![PlatformEvent::Unrecognized {
                topic: TOPIC_OTHER.into()
            }]
        );
    }
}

/// A body that is not what it claims does not decode: the source dead-letters it with the
/// reason instead of handing on an empty or default batch.
#[test]
fn bodies_missing_what_meta_always_sends_do_not_decode() {
    let text: serde_json::Value = serde_json::from_slice(&text_payload()).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = text.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "no object",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("object");
            }),
        ),
        (
            "another object",
            edit(&|v| v["object"] = "instagram".into()),
        ),
        (
            "no field",
            edit(&|v| {
                v["entry"][0]["changes"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("field");
            }),
        ),
        (
            "no entry id",
            edit(&|v| {
                v["entry"][0].as_object_mut().unwrap().remove("id");
            }),
        ),
        (
            "no metadata",
            edit(&|v| {
                change_value(v).as_object_mut().unwrap().remove("metadata");
            }),
        ),
        (
            "no phone_number_id",
            edit(&|v| {
                change_value(v)["metadata"]
                    .as_object_mut()
                    .unwrap()
                    .remove("phone_number_id");
            }),
        ),
        (
            "a message without timestamp",
            edit(&|v| {
                change_value(v)["messages"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("timestamp");
            }),
        ),
        (
            "a message without type",
            edit(&|v| {
                change_value(v)["messages"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("type");
            }),
        ),
    ];
    let src = WhatsAppCloudWebhook::new("app-secret");
    for (what, body) in cases {
        assert!(parse_webhook(&body, Utc::now()).is_err(), "{what}");
        assert!(
            matches!(
                src.decode(&stored(&body, Some(TOPIC_MESSAGES.into()))),
                Err(aftercare::Error::Decode { .. })
            ),
            "{what}"
        );
    }
    let status = envelope(value_with_status(serde_json::json!({
        "id": "wamid.A", "timestamp": "1750263774", "recipient_id": "16505551234"
    })));
    assert!(
        parse_webhook(&status, Utc::now()).is_err(),
        "a status without status"
    );
    let status = envelope(value_with_status(serde_json::json!({
        "id": "wamid.A", "status": "delivered", "recipient_id": "16505551234"
    })));
    assert!(
        parse_webhook(&status, Utc::now()).is_err(),
        "a status without timestamp"
    );
}

fn change_value(v: &mut serde_json::Value) -> &mut serde_json::Value {
    &mut v["entry"][0]["changes"][0]["value"]
}

fn value_with_status(status: serde_json::Value) -> serde_json::Value {
    value(serde_json::Value::Null, Some(serde_json::json!([status])))
}

/// An entry stored before the phone number was configured does not decode.
#[test]
fn a_stored_entry_for_another_phone_number_does_not_decode() {
    let body = text_payload();
    let ours = WhatsAppCloudWebhook::new("s").phone_number_id("106540352242922");
    assert!(
        ours.decode(&stored(&body, Some(TOPIC_MESSAGES.into())))
            .is_ok()
    );
    let other = WhatsAppCloudWebhook::new("s").phone_number_id("199999999999999");
    let err = other
        .decode(&stored(&body, Some(TOPIC_MESSAGES.into())))
        .unwrap_err();
    assert!(err.to_string().contains("106540352242922"), "{err}");
}
