//! What the configured channels' webhooks say, read for the sdk's
//! [`InboundHandler`](aftercare::flows::inbound::InboundHandler): Twilio (SMS and WhatsApp
//! replies, status callbacks), WhatsApp Cloud (messages, statuses) and the email providers
//! (delivery events, inbound replies).

use aftercare::flows::delivery::DeliveryReport;
use aftercare::flows::inbound::ChannelUpdate;
use aftercare::inbox::HandlerError;
use aftercare::model::ChannelKind;
use aftercare::store::InboxEntry;

/// Twilio's webhooks (`/webhooks/twilio`): a reply, or a status callback.
pub fn twilio(entry: &InboxEntry) -> Result<ChannelUpdate, HandlerError> {
    use aftercare_twilio::webhook::{TwilioEvent, TwilioForm, decode_entry};
    Ok(match decode_entry(entry)? {
        TwilioEvent::Inbound(m) => ChannelUpdate::messages(vec![m]),
        TwilioEvent::Status { sid, status, .. } => {
            let mut report = DeliveryReport::new(sid, status, entry.received_at);
            // The recipient lets a report about a message whose send timed out (uncertain,
            // its SID never learnt) find it through a look-up.
            let form = TwilioForm::parse(&entry.body);
            if let Some(to) = form.get("To").filter(|t| !t.is_empty()) {
                let kind = if to.starts_with("whatsapp:") {
                    ChannelKind::Whatsapp
                } else {
                    ChannelKind::Sms
                };
                report = report.recipient(kind, to);
            }
            ChannelUpdate::reports(vec![report])
        }
        _ => ChannelUpdate::none(),
    })
}

/// WhatsApp Cloud API webhooks (`/webhooks/whatsapp`): messages and statuses.
pub fn whatsapp(entry: &InboxEntry) -> Result<ChannelUpdate, HandlerError> {
    let batch = aftercare_whatsapp_cloud::webhook::decode_entry(entry)?;
    let reports = batch
        .statuses
        .into_iter()
        .map(|s| {
            let mut r =
                DeliveryReport::new(s.message_id, s.status, s.at.unwrap_or(entry.received_at));
            // The outbox key the message was sent with (biz_opaque_callback_data).
            if let Some(key) = s.callback_data {
                r = r.key(key);
            }
            if let Some(to) = s.recipient {
                r = r.recipient(ChannelKind::Whatsapp, to);
            }
            r
        })
        .collect();
    Ok(ChannelUpdate::messages(batch.messages).with_reports(reports))
}

/// The email provider's webhooks: delivery events, or an inbound reply.
pub fn email(entry: &InboxEntry) -> Result<ChannelUpdate, HandlerError> {
    Ok(match entry.source.as_str() {
        "sendgrid" => ChannelUpdate::email(aftercare_sendgrid::events::decode_events(&entry.body)?),
        "mailgun" => ChannelUpdate::email(aftercare_mailgun::decode_events(&entry.body)?),
        "ses" => ChannelUpdate::email(aftercare_ses::decode_events(&entry.body)?),
        "sendgrid-inbound" => {
            ChannelUpdate::messages(vec![aftercare_sendgrid::inbound::decode_entry(entry)?])
        }
        "mailgun-inbound" => {
            ChannelUpdate::messages(vec![aftercare_mailgun::decode_inbound(entry)?])
        }
        _ => ChannelUpdate::none(),
    })
}
