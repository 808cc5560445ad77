//! The `[helpdesk]` and `[email]` parts of the real-store stack: the desk follow-up
//! tickets go to, the email provider's webhook sources (delivery events, inbound replies),
//! its send channel, and the handler that acts on what those sources stored.

use std::sync::Arc;

use crate::config::{EmailProvider, HelpdeskProvider, TrackingLinksConfig};
use aftercare::BoxError;
use aftercare::channel::MessageChannel;
use aftercare::helpdesk::Helpdesk;
use aftercare::webhook::WebhookSource;

/// The configured desk, if any.
pub fn helpdesk(cfg: &TrackingLinksConfig) -> Result<Option<Arc<dyn Helpdesk>>, BoxError> {
    let Some(h) = &cfg.helpdesk else {
        return Ok(None);
    };
    let token = h.api_token.resolve()?;
    let email = h.email.clone().unwrap_or_default();
    Ok(Some(match h.provider {
        HelpdeskProvider::Zendesk => Arc::new(aftercare_zendesk::ZendeskDesk::new(
            aftercare_zendesk::ZendeskConfig::with_base_url(&h.base_url, email, token),
        )?),
        HelpdeskProvider::Freshdesk => {
            let mut c = aftercare_freshdesk::FreshdeskConfig::with_base_url(&h.base_url, token);
            if let Some(f) = &h.external_id_field {
                c.external_id_field.clone_from(f);
            }
            Arc::new(aftercare_freshdesk::FreshdeskDesk::new(c)?)
        }
        HelpdeskProvider::Gorgias => Arc::new(aftercare_gorgias::GorgiasDesk::new(
            aftercare_gorgias::GorgiasConfig::with_base_url(&h.base_url, email, token),
        )?),
    }))
}

/// A webhook source and its route name (`/webhooks/{name}`).
pub type NamedSource = (&'static str, Arc<dyn WebhookSource>);

/// The email provider's webhook sources.
pub fn email_sources(cfg: &TrackingLinksConfig) -> Result<Vec<NamedSource>, BoxError> {
    let Some(e) = &cfg.email else {
        return Ok(Vec::new());
    };
    let mut out: Vec<NamedSource> = Vec::new();
    match e.provider {
        EmailProvider::Sendgrid => {
            let key = e.events_key.as_ref().ok_or("email.events_key is missing")?;
            let key = aftercare_sendgrid::EventWebhookKey::parse(&String::from_utf8_lossy(
                key.resolve()?.expose(),
            ))?;
            out.push((
                "sendgrid",
                Arc::new(aftercare_sendgrid::SendGridEvents::new(key)),
            ));
            if let Some(p) = &e.inbound_password {
                out.push((
                    "sendgrid-inbound",
                    Arc::new(aftercare_sendgrid::SendGridInbound::new(
                        "sendgrid",
                        p.resolve()?,
                    )),
                ));
            }
        }
        EmailProvider::Mailgun => {
            let key = e.events_key.as_ref().ok_or("email.events_key is missing")?;
            let key = key.resolve()?;
            out.push((
                "mailgun",
                Arc::new(aftercare_mailgun::MailgunEvents::new(key.clone())?),
            ));
            out.push((
                "mailgun-inbound",
                Arc::new(aftercare_mailgun::MailgunInbound::new(key)?),
            ));
        }
        EmailProvider::Ses => {
            let certs = aftercare_ses::SnsCertificates::new();
            for c in &e.sns_certificates {
                certs.pin(&c.url, &std::fs::read_to_string(&c.pem_file)?)?;
            }
            out.push((
                "ses",
                Arc::new(
                    aftercare_ses::SesEvents::new(Arc::new(certs), e.sns_topics.clone())
                        .require_signature_v2(e.require_sns_signature_v2),
                ),
            ));
        }
    }
    Ok(out)
}

/// The provider's send channel when `[email] send = true`.
pub fn email_channel(
    cfg: &TrackingLinksConfig,
) -> Result<Option<Arc<dyn MessageChannel>>, BoxError> {
    let Some(e) = cfg.email.as_ref().filter(|e| e.send) else {
        return Ok(None);
    };
    let key = e.api_key.as_ref().ok_or("email.api_key is missing")?;
    let from = e.from.clone().ok_or("email.from is missing")?;
    let mut ch = aftercare_sendgrid::SendGridChannel::new(key.resolve()?, from)?;
    if let Some(u) = &e.api_base_url {
        ch = ch.base_url(u.clone());
    }
    if let Some(r) = &e.reply_to {
        ch = ch.reply_to(r.clone());
    }
    Ok(Some(Arc::new(ch)))
}
