//! Rules across sections (a survey needs a channel, retention and cool-down agree...).

use super::*;

/// Each channel of a preference order (`tracking.channels`, `survey.channels`) must be
/// configured.
pub(super) fn check_channels(
    p: &Parts,
    configured: &[(ChannelKind, &str)],
    channels: &[ChannelKind],
    path: &str,
    report: &mut dyn FnMut(&str, String),
) {
    if channels.is_empty() {
        report(path, "no channel to send on; list at least one".into());
    }
    for (i, ch) in channels.iter().enumerate() {
        // A broken channel section was reported already; it may be meant to carry this one.
        let broken = match ch {
            ChannelKind::Email => p.smtp.is_err(),
            ChannelKind::Sms => p.twilio.is_err(),
            ChannelKind::Whatsapp => p.twilio.is_err() || p.whatsapp_cloud.is_err(),
            _ => false,
        };
        if !broken && !configured.iter().any(|(c, _)| c == ch) {
            let section = match ch {
                ChannelKind::Email => "[smtp]",
                ChannelKind::Sms => "[twilio] with `channels` including \"sms\"",
                ChannelKind::Whatsapp => {
                    "[whatsapp_cloud], or [twilio] with `channels` including \"whatsapp\""
                }
                _ => "a channel section",
            };
            report(
                &format!("{path}[{i}]"),
                format!(
                    "{ch} is in the preference order but not configured; add {section}, or remove it from the list"
                ),
            );
        }
    }
}

/// `[survey]`, `[follow_up]` and `[dashboard]`.
pub(super) fn semantic_feedback(
    p: &Parts,
    configured: &[(ChannelKind, &str)],
    report: &mut dyn FnMut(&str, String),
) {
    let survey = match &p.survey {
        Ok(s) => s.as_ref(),
        // Broken: reported already; the sections that need it are checked on their own.
        Err(()) => None,
    };
    if let Some(s) = survey {
        if let Some(channels) = &s.channels {
            check_channels(p, configured, channels, "survey.channels", report);
        }
        if s.open_days == 0 {
            report(
                "survey.open_days",
                "a survey open for 0 days could never be answered".into(),
            );
        } else if s.reminder_days >= s.open_days {
            report(
                "survey.reminder_days",
                format!(
                    "the reminder would come after the survey closes ({} days open); make it fewer days than `open_days`, or 0 for no reminder",
                    s.open_days
                ),
            );
        }
        if s.days_after_shipping < s.days_after_delivery {
            report(
                "survey.days_after_shipping",
                format!(
                    "the fallback after shipping ({} days) would come before the survey after delivery ({} days); make it at least as many days",
                    s.days_after_shipping, s.days_after_delivery
                ),
            );
        }
        if let Some(k) = &s.link_key {
            secret_ok(k, "survey.link_key", report);
        }
    }
    let needs_survey = p.survey.as_ref().is_ok_and(Option::is_none);
    if let Ok(Some(f)) = &p.follow_up {
        if needs_survey {
            report(
                "follow_up",
                "follow-ups act on survey answers; add a [survey] section, or remove this one"
                    .into(),
            );
        }
        if let Some(e) = &f.support_email {
            if !is_mailbox(e) {
                report(
                    "follow_up.support_email",
                    format!("`{e}` is not an email address"),
                );
            } else if p.smtp.as_ref().is_ok_and(Option::is_none) {
                report(
                    "follow_up.support_email",
                    "support is alerted by email: add an [smtp] section, or remove this".into(),
                );
            }
        }
        match (&f.helpdesk_webhook_url, &f.helpdesk_webhook_secret) {
            (Some(u), secret) => {
                if let Err(e) = http_url(u) {
                    report("follow_up.helpdesk_webhook_url", e);
                }
                match secret {
                    None => report(
                        "follow_up.helpdesk_webhook_url",
                        "the helpdesk webhook needs `helpdesk_webhook_secret` (the `whsec_...` secret the helpdesk verifies with)".into(),
                    ),
                    Some(r) => {
                        let mut ok = true;
                        secret_ok(r, "follow_up.helpdesk_webhook_secret", &mut |path, m| {
                            ok = false;
                            report(path, m);
                        });
                        if ok
                            && let Ok(v) = r.resolve()
                            && std::str::from_utf8(v.expose()).map_or(true, |t| {
                                !t.starts_with("whsec_")
                                    || aftercare::webhook::Secret::from_standard_webhooks(t)
                                        .is_err()
                            })
                        {
                            // Never echo the secret itself.
                            report(
                                "follow_up.helpdesk_webhook_secret",
                                "not a Standard Webhooks secret: it must be `whsec_` followed by base64".into(),
                            );
                        }
                    }
                }
            }
            (None, Some(_)) => report(
                "follow_up.helpdesk_webhook_secret",
                "a webhook secret without `helpdesk_webhook_url` is not used; add the URL or remove this".into(),
            ),
            (None, None) => {}
        }
        if let Some(t) = &f.detractor_tag
            && (t.trim().is_empty() || t.contains(','))
        {
            report(
                "follow_up.detractor_tag",
                format!("`{t}` is not one tag (not empty, no commas)"),
            );
        }
        if let Some(u) = &f.review_url
            && let Err(e) = http_url(u)
        {
            report("follow_up.review_url", e);
        }
    }
    if let Ok(Some(d)) = &p.dashboard {
        if needs_survey {
            report(
                "dashboard",
                "the dashboard shows survey scores; add a [survey] section, or remove this one"
                    .into(),
            );
        }
        secret_ok(&d.key, "dashboard.key", report);
    }
}

pub(super) fn semantic(p: &Parts, report: &mut dyn FnMut(&str, String)) {
    // Retention shorter than the survey cool-down would forget a customer's last survey
    // before the cool-down ends, and ask them again too soon.
    if let (Ok(Some(s)), Some(r)) = (&p.survey, &p.retention)
        && r.days <= s.cooldown_days
    {
        report(
            "retention.days",
            format!(
                "{} days is not longer than the survey cool-down (survey.cooldown_days = {}): \
                 a customer's last survey would be erased before the cool-down ends and they \
                 would be asked again too soon; keep data longer than the cool-down",
                r.days, s.cooldown_days
            ),
        );
    }
    if let Ok(Some(b)) = &p.branding {
        semantic_branding(b, report);
    }
    if let Ok(Some(h)) = &p.helpdesk {
        semantic_helpdesk(h, matches!(p.survey, Ok(Some(_))), report);
    }
    if let Ok(Some(r)) = &p.recovery {
        semantic_recovery(
            r,
            p.shop.as_ref().map(|s| s.platform),
            matches!(p.helpdesk, Ok(Some(_))),
            report,
        );
    }
    if let Ok(Some(e)) = &p.email {
        semantic_email(e, matches!(p.smtp, Ok(Some(_))), report);
    }
    if let Ok(Some(shopify)) = &p.shopify {
        semantic_shopify(shopify, report);
    }
    if let Ok(Some(w)) = &p.woocommerce {
        semantic_woocommerce(w, report);
    }
    if let Ok(Some(b)) = &p.bigcommerce {
        semantic_bigcommerce(b, report);
    }
    if let Ok(Some(t)) = &p.tracking_source {
        semantic_tracking_source(t, report);
    }
    if let Ok(Some(n)) = &p.nuvemshop {
        semantic_nuvemshop(n, report);
    }
    if let Ok(Some(k)) = &p.ikas {
        semantic_ikas(k, report);
    }
    if let Ok(Some(s)) = &p.salla {
        semantic_salla(s, report);
    }
    if let Ok(Some(z)) = &p.zid {
        semantic_zid(z, report);
    }
    if let Ok(Some(m)) = &p.magento {
        semantic_magento(m, report);
    }
    // The chosen platform's section must be there (a broken one is reported already).
    if let Some(shop) = &p.shop {
        let present = match shop.platform {
            Platform::Shopify => !matches!(p.shopify, Ok(None)),
            Platform::Woocommerce => !matches!(p.woocommerce, Ok(None)),
            Platform::Bigcommerce => !matches!(p.bigcommerce, Ok(None)),
            Platform::Nuvemshop => !matches!(p.nuvemshop, Ok(None)),
            Platform::Ikas => !matches!(p.ikas, Ok(None)),
            Platform::Salla => !matches!(p.salla, Ok(None)),
            Platform::Zid => !matches!(p.zid, Ok(None)),
            Platform::Magento => !matches!(p.magento, Ok(None)),
        };
        if !present {
            let name = shop.platform.name();
            report(
                "shop.platform",
                format!(
                    "missing section [{name}]: the shop runs on {name}{}; add its section (see examples/tracking-links.example.toml)",
                    if shop.platform == Platform::Shopify {
                        " (the default platform)"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    // Storage.
    match &p.storage {
        None => {}
        Some(storage) => match storage {
            StorageConfig::Sqlite { path } if path.trim().is_empty() => {
                report("storage.sqlite.path", "the SQLite path is empty".into());
            }
            StorageConfig::Postgres { url } => secret_ok(url, "storage.postgres.url", report),
            _ => {}
        },
    }
    // Server.
    if let Some(server) = &p.server {
        if server.bind.parse::<std::net::SocketAddr>().is_err() {
            report(
                "server.bind",
                format!(
                    "`{}` is not an address to listen on; write `IP:PORT` (`0.0.0.0:8080`)",
                    server.bind
                ),
            );
        }
        if let Err(e) = http_url(&server.public_url) {
            report("server.public_url", e);
        }
    }
    // Channels.
    let mut configured: Vec<(ChannelKind, &str)> = Vec::new();
    if let Ok(Some(t)) = &p.twilio {
        if !(t.account_sid.starts_with("AC") && t.account_sid.len() == 34) {
            report(
                "twilio.account_sid",
                format!(
                    "`{}` is not an Account SID (`AC` and 32 hex digits, in the Twilio console)",
                    t.account_sid
                ),
            );
        }
        secret_ok(&t.auth_token, "twilio.auth_token", report);
        if let Some(k) = &t.api_key_sid
            && !k.starts_with("SK")
        {
            report(
                "twilio.api_key_sid",
                format!("`{k}` is not an API key SID (`SK...`)"),
            );
        }
        match (&t.from, &t.messaging_service_sid) {
            (None, None) => report(
                "twilio",
                "set `from` (a Twilio number) or `messaging_service_sid`".into(),
            ),
            (Some(_), Some(_)) => report(
                "twilio.messaging_service_sid",
                "set `from` or `messaging_service_sid`, not both".into(),
            ),
            (Some(f), None) => {
                if !is_e164(f) {
                    report(
                        "twilio.from",
                        format!("`{f}` is not a phone number in E.164 form (`+14155550100`)"),
                    );
                }
            }
            (None, Some(m)) => {
                if !m.starts_with("MG") {
                    report(
                        "twilio.messaging_service_sid",
                        format!("`{m}` is not a Messaging Service SID (`MG...`)"),
                    );
                }
            }
        }
        for (i, ch) in t.channels.iter().enumerate() {
            if matches!(ch, ChannelKind::Sms | ChannelKind::Whatsapp) {
                configured.push((*ch, "twilio"));
            } else {
                report(
                    &format!("twilio.channels[{i}]"),
                    format!("Twilio sends SMS and WhatsApp, not {ch}"),
                );
            }
        }
        for (name, sid) in &t.content_sids {
            if !sid.starts_with("HX") {
                report(
                    &format!("twilio.content_sids.{name}"),
                    format!("`{sid}` is not a Content SID (`HX...`)"),
                );
            }
        }
        if let Some(u) = &t.api_base_url
            && let Err(e) = http_url(u)
        {
            report("twilio.api_base_url", e);
        }
    }
    if let Ok(Some(w)) = &p.whatsapp_cloud {
        if w.phone_number_id.is_empty() || !w.phone_number_id.chars().all(|c| c.is_ascii_digit()) {
            report(
                "whatsapp_cloud.phone_number_id",
                format!(
                    "`{}` is not a phone number id (digits, from WhatsApp Manager; not the phone number)",
                    w.phone_number_id
                ),
            );
        }
        secret_ok(&w.access_token, "whatsapp_cloud.access_token", report);
        secret_ok(&w.app_secret, "whatsapp_cloud.app_secret", report);
        secret_ok(&w.verify_token, "whatsapp_cloud.verify_token", report);
        if configured.iter().any(|(c, _)| *c == ChannelKind::Whatsapp) {
            report(
                "whatsapp_cloud",
                "WhatsApp is configured twice: through Twilio (`twilio.channels`) and the Cloud API; keep one".into(),
            );
        }
        configured.push((ChannelKind::Whatsapp, "whatsapp_cloud"));
        if let Some(u) = &w.api_base_url
            && let Err(e) = http_url(u)
        {
            report("whatsapp_cloud.api_base_url", e);
        }
    }
    if let Ok(Some(m)) = &p.smtp {
        if m.host.trim().is_empty() {
            report("smtp.host", "the SMTP host is empty".into());
        }
        if m.port == 0 {
            report("smtp.port", "port 0 is not a port".into());
        }
        if !is_mailbox(&m.from) {
            report(
                "smtp.from",
                format!(
                    "`{}` is not an email address (`orders@shop.example` or `Shop <orders@shop.example>`)",
                    m.from
                ),
            );
        }
        if let Some(r) = &m.reply_to
            && !is_mailbox(r)
        {
            report("smtp.reply_to", format!("`{r}` is not an email address"));
        }
        match (&m.username, &m.password) {
            (Some(_), None) => report("smtp.password", "a user name needs a password".into()),
            (None, Some(_)) => report("smtp.username", "a password needs a user name".into()),
            (Some(_), Some(p)) => secret_ok(p, "smtp.password", report),
            (None, None) => {}
        }
        configured.push((ChannelKind::Email, "smtp"));
    }
    // Tracking.
    if let Some(tracking) = &p.tracking {
        check_channels(
            p,
            &configured,
            &tracking.channels,
            "tracking.channels",
            report,
        );
        if let Some(q) = &tracking.quiet_hours {
            for (k, v) in [("start", &q.start), ("end", &q.end)] {
                if parse_hhmm(v).is_none() {
                    report(
                        &format!("tracking.quiet_hours.{k}"),
                        format!("`{v}` is not a time; write it `HH:MM` (`21:00`)"),
                    );
                }
            }
            if q.time_zone.parse::<chrono_tz::Tz>().is_err() {
                report(
                    "tracking.quiet_hours.time_zone",
                    format!(
                        "`{}` is not an IANA time zone (`Europe/Istanbul`)",
                        q.time_zone
                    ),
                );
            }
        }
        if let Some(u) = &tracking.support_url
            && let Err(e) = http_url(u)
        {
            report("tracking.support_url", e);
        }
        if tracking.default_locale.trim().is_empty() {
            report(
                "tracking.default_locale",
                "the default locale is empty".into(),
            );
        }
        if tracking.link_ttl_days == 0 {
            report(
                "tracking.link_ttl_days",
                "links valid for 0 days would never open".into(),
            );
        }
    }
    for (i, e) in p.content.iter().flat_map(|c| c.0.iter()).enumerate() {
        if let Err(m) = http_url(&e.url) {
            report(&format!("content[{i}].url"), m);
        }
    }
    semantic_feedback(p, &configured, report);
    // Rate limits.
    let Some(rates) = &p.rate_limits else {
        return;
    };
    for (k, v) in [
        ("sms_per_second", rates.sms_per_second),
        ("whatsapp_per_second", rates.whatsapp_per_second),
        ("email_per_second", rates.email_per_second),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v > 0.0)
        {
            report(
                &format!("rate_limits.{k}"),
                format!("{v} is not a positive rate"),
            );
        }
    }
}
