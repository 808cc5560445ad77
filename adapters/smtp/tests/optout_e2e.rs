//! End to end: an opt-out reply in each of the six languages → the consent store says Denied
//! → the one localized confirmation goes out → a later message to that address on that
//! channel ends `skipped` in the dispatcher with the reason in the ledger, while other
//! addresses and other channels still get theirs. Storage is the real SQLite store; SMS and
//! WhatsApp are recording channels; email goes through `SmtpChannel` to a real SMTP server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::replies::{ReplyAction, ReplyConfig, ReplyHandler};
use aftercare::l10n::Localizer;
use aftercare::model::{
    ChannelKind, ConsentState, InboundMessage, OutboundMessage, Purpose, Receipt,
};
use aftercare::store::{
    ConsentStore, Decision, Enqueue, Ledger, NewOutboxMessage, Outbox, OutboxStatus,
};
use aftercare_smtp::{Security, SmtpChannel, SmtpConfig};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;

#[derive(Debug)]
struct Recording {
    kind: ChannelKind,
    sent: Mutex<Vec<(String, OutboundMessage)>>,
}

impl Recording {
    fn new(kind: ChannelKind) -> Arc<Self> {
        Arc::new(Self {
            kind,
            sent: Mutex::new(Vec::new()),
        })
    }
    fn sent(&self) -> Vec<(String, OutboundMessage)> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl MessageChannel for Recording {
    fn kind(&self) -> ChannelKind {
        self.kind
    }
    async fn send(&self, m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        self.sent.lock().unwrap().push((key.to_owned(), m.clone()));
        Ok(Receipt::new(format!("rec-{key}"), chrono::Utc::now()))
    }
}

fn inbound(channel: ChannelKind, from: &str, text: &str) -> InboundMessage {
    serde_json::from_value(serde_json::json!({
        "channel": channel,
        "from": from,
        "to": "+15550009999",
        "text": text,
        "button_payload": null,
        "provider_message_id": "SM0001",
        "in_reply_to": null,
        "received_at": "2026-11-25T10:00:00Z",
    }))
    .unwrap()
}

fn tracking(channel: ChannelKind, to: &str) -> OutboundMessage {
    let mut m = OutboundMessage::new(
        channel,
        to,
        Purpose::Transactional,
        "Your order #1001 has shipped",
    );
    m.subject = Some("Your order #1001 is on its way".into());
    m
}

struct World {
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    handler: ReplyHandler,
    sms: Arc<Recording>,
    wa: Arc<Recording>,
    dispatcher: Dispatcher,
    smtp: Arc<common::Server>,
}

async fn world() -> World {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let clock = Arc::new(ManualClock::new("2026-11-25T10:00:00Z".parse().unwrap()));
    let handler = ReplyHandler::new(
        store.clone(),
        store.clone(),
        Arc::new(Localizer::new()),
        clock.clone(),
        ReplyConfig::new("Dukkan", "https://shop.example/help"),
    );
    let sms = Recording::new(ChannelKind::Sms);
    let wa = Recording::new(ChannelKind::Whatsapp);
    let server = common::Server::start("plain", None, None);
    let email = SmtpChannel::new(
        SmtpConfig::new(
            "127.0.0.1",
            server.port,
            Security::Plain,
            "Dukkan <orders@shop.example>",
        )
        .timeout(Duration::from_secs(10)),
    )
    .unwrap();
    let dispatcher = Dispatcher::new(store.clone(), clock.clone())
        .channel(sms.clone())
        .channel(wa.clone())
        .channel(Arc::new(email))
        .consent_store(store.clone());
    let server = Arc::new(server);
    World {
        store,
        clock,
        handler,
        sms,
        wa,
        dispatcher,
        smtp: server,
    }
}

async fn enqueue(w: &World, key: &str, m: OutboundMessage) -> i64 {
    w.store
        .enqueue(
            NewOutboxMessage::new(key, m, w.clock.now(), "test"),
            w.clock.now(),
        )
        .await
        .unwrap()
        .id()
}

#[tokio::test]
async fn opt_out_reply_in_each_language_blocks_later_messages_on_that_channel_only() {
    // (reply, canonical keyword, locale of the confirmation, a phrase it must contain)
    let cases = [
        ("STOP", "STOP", "en", "You're unsubscribed"),
        ("إلغاء", "إلغاء", "ar", "تم إلغاء اشتراكك"),
        ("iptal", "İPTAL", "tr", "Aboneliğiniz iptal edildi"),
        ("หยุดค่ะ", "หยุด", "th", "ยกเลิกการรับข้อความเรียบร้อยแล้ว"),
        ("Sair", "SAIR", "pt-BR", "você não receberá mais mensagens"),
        ("¡BAJA!", "BAJA", "es", "ya no recibirás más mensajes"),
    ];
    let w = world().await;
    for (i, (reply, keyword, locale, phrase)) in cases.into_iter().enumerate() {
        let customer = format!("+90555000000{i}");
        let other = format!("+1555000000{i}");
        let sms_before = w.sms.sent().len();
        let wa_before = w.wa.sent().len();

        let action = w
            .handler
            .handle(&inbound(ChannelKind::Sms, &customer, reply), None)
            .await
            .unwrap();
        let ReplyAction::OptedOut {
            keyword: k,
            confirmation: Some(Enqueue::New(confirm_id)),
        } = action
        else {
            panic!("{reply}: {action:?}");
        };
        assert_eq!(k, keyword);

        let record = w
            .store
            .consent(ChannelKind::Sms, &customer, Purpose::Transactional)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.state, ConsentState::Denied, "{reply}");
        assert_eq!(record.source, format!("reply:{keyword}"));
        assert_eq!(record.purpose, None, "a STOP covers every purpose");

        // Later messages: to the opted-out address on SMS, to another address on SMS, and to
        // the same address on WhatsApp.
        let blocked = enqueue(
            &w,
            &format!("tracking:{i}:sms"),
            tracking(ChannelKind::Sms, &customer),
        )
        .await;
        let survey = {
            let mut m = tracking(ChannelKind::Sms, &customer);
            m.purpose = Purpose::Feedback;
            enqueue(&w, &format!("survey:{i}:sms"), m).await
        };
        enqueue(
            &w,
            &format!("tracking:{i}:sms:other"),
            tracking(ChannelKind::Sms, &other),
        )
        .await;
        enqueue(
            &w,
            &format!("tracking:{i}:wa"),
            tracking(ChannelKind::Whatsapp, &customer),
        )
        .await;

        let report = w.dispatcher.drain().await.unwrap();
        assert_eq!((report.sent, report.skipped), (3, 2), "{reply}: {report:?}");

        // The confirmation went out once, in the customer's language.
        let sms = w.sms.sent()[sms_before..].to_vec();
        assert_eq!(sms.len(), 2, "{reply}: {sms:?}");
        let (confirm_key, confirm) = sms
            .iter()
            .find(|(k, _)| k.starts_with("optout-confirm:sms:"))
            .expect("the confirmation was sent");
        assert!(confirm_key.ends_with(":2026-11-25"), "{confirm_key}");
        assert_eq!(confirm.to, customer);
        assert_eq!(confirm.locale, locale, "{reply}");
        assert!(confirm.text.contains(phrase), "{reply}: {}", confirm.text);
        assert!(confirm.text.contains("Dukkan"));
        assert_eq!(
            w.store
                .outbox_entry(confirm_id)
                .await
                .unwrap()
                .unwrap()
                .status,
            OutboxStatus::Sent
        );
        assert!(
            sms.iter()
                .any(|(k, m)| k == &format!("tracking:{i}:sms:other") && m.to == other),
            "another address still gets its message"
        );
        let wa = w.wa.sent()[wa_before..].to_vec();
        assert_eq!(wa.len(), 1);
        assert_eq!(
            wa[0].1.to, customer,
            "another channel still gets its message"
        );

        // The blocked ones are skipped, with the reason in the ledger.
        for (id, key) in [
            (blocked, format!("tracking:{i}:sms")),
            (survey, format!("survey:{i}:sms")),
        ] {
            assert_eq!(
                w.store.outbox_entry(id).await.unwrap().unwrap().status,
                OutboxStatus::Skipped
            );
            let ledger = w.store.ledger_for_key(&key).await.unwrap();
            let skip = ledger
                .iter()
                .find(|e| e.decision == Decision::Skipped)
                .expect("a skipped row");
            assert!(skip.reason.contains("refused"), "{}", skip.reason);
            assert!(
                skip.reason.contains(&format!("reply:{keyword}")),
                "{}",
                skip.reason
            );
        }
    }
}

#[tokio::test]
async fn one_confirmation_per_day_and_start_resubscribes() {
    let w = world().await;
    let customer = "+905551112233";
    let first = w
        .handler
        .handle(&inbound(ChannelKind::Whatsapp, customer, "DUR"), None)
        .await
        .unwrap();
    assert!(
        matches!(
            first,
            ReplyAction::OptedOut {
                confirmation: Some(Enqueue::New(_)),
                ..
            }
        ),
        "{first:?}"
    );
    let second = w
        .handler
        .handle(&inbound(ChannelKind::Whatsapp, customer, "stop"), None)
        .await
        .unwrap();
    assert!(
        matches!(
            second,
            ReplyAction::OptedOut {
                confirmation: Some(Enqueue::Duplicate(_)),
                ..
            }
        ),
        "{second:?}"
    );
    w.dispatcher.drain().await.unwrap();
    let sent = w.wa.sent();
    assert_eq!(sent.len(), 1, "only one confirmation: {sent:?}");
    assert_eq!(sent[0].1.locale, "tr");

    // START: consent granted again, confirmation (in the hinted locale), and messages flow.
    w.clock.advance(chrono::Duration::minutes(5));
    let again = w
        .handler
        .handle(
            &inbound(ChannelKind::Whatsapp, customer, "START"),
            Some("tr-TR"),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            again,
            ReplyAction::OptedIn {
                confirmation: Some(Enqueue::New(_)),
                ..
            }
        ),
        "{again:?}"
    );
    enqueue(
        &w,
        "tracking:9:wa",
        tracking(ChannelKind::Whatsapp, customer),
    )
    .await;
    let report = w.dispatcher.drain().await.unwrap();
    assert_eq!((report.sent, report.skipped), (2, 0));
    let sent = w.wa.sent();
    let (_, optin) = sent
        .iter()
        .find(|(k, _)| k.starts_with("optin-confirm:whatsapp:"))
        .unwrap();
    assert!(
        optin.text.contains("yeniden abone oldunuz"),
        "{}",
        optin.text
    );
    assert!(sent.iter().any(|(k, _)| k == "tracking:9:wa"));

    // YES from someone who never opted out is left for the survey; START is a no-op.
    let yes = w
        .handler
        .handle(&inbound(ChannelKind::Sms, "+905550000000", "Yes"), None)
        .await
        .unwrap();
    assert_eq!(yes, ReplyAction::NotAKeyword);
    let start = w
        .handler
        .handle(&inbound(ChannelKind::Sms, "+905550000000", "start"), None)
        .await
        .unwrap();
    assert!(matches!(start, ReplyAction::AlreadySubscribed { .. }));
    let nine = w
        .handler
        .handle(&inbound(ChannelKind::Sms, "+905550000000", "٩"), None)
        .await
        .unwrap();
    assert_eq!(nine, ReplyAction::NotAKeyword);
}

#[tokio::test]
async fn email_opt_out_blocks_email_and_sends_no_confirmation() {
    let w = world().await;
    let action = w
        .handler
        .handle(
            &inbound(ChannelKind::Email, "Layla@Example.com", "Unsubscribe"),
            None,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            action,
            ReplyAction::OptedOut {
                confirmation: None,
                ..
            }
        ),
        "{action:?}"
    );
    enqueue(
        &w,
        "tracking:1:email",
        tracking(ChannelKind::Email, "layla@example.com"),
    )
    .await;
    enqueue(
        &w,
        "tracking:2:email",
        tracking(ChannelKind::Email, "omar@example.com"),
    )
    .await;
    let report = w.dispatcher.drain().await.unwrap();
    assert_eq!((report.sent, report.skipped), (1, 1), "{report:?}");
    let got = w.smtp.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].0["rcpt_tos"],
        serde_json::json!(["omar@example.com"])
    );
}

#[tokio::test]
async fn help_reply_is_localized_and_skipped_for_opted_out_addresses() {
    let w = world().await;
    let action = w
        .handler
        .handle(&inbound(ChannelKind::Sms, "+66812345678", "ช่วยเหลือ"), None)
        .await
        .unwrap();
    assert!(
        matches!(
            action,
            ReplyAction::Help {
                reply: Enqueue::New(_)
            }
        ),
        "{action:?}"
    );
    w.dispatcher.drain().await.unwrap();
    let sent = w.sms.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.locale, "th");
    assert!(sent[0].1.text.contains("https://shop.example/help"));

    w.handler
        .handle(&inbound(ChannelKind::Sms, "+66800000000", "หยุด"), None)
        .await
        .unwrap();
    w.handler
        .handle(&inbound(ChannelKind::Sms, "+66800000000", "HELP"), None)
        .await
        .unwrap();
    let report = w.dispatcher.drain().await.unwrap();
    assert_eq!(
        (report.sent, report.skipped),
        (1, 1),
        "confirmation sent, help skipped: {report:?}"
    );
}
