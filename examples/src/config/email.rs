//! `[email]`: an email provider's delivery events, inbound replies and (optionally) its
//! send API in place of `[smtp]`, and their checks.

use super::*;

/// Which provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EmailProvider {
    /// SendGrid: Event Webhook at `/webhooks/sendgrid`, Inbound Parse at
    /// `/webhooks/sendgrid-inbound`, Mail Send.
    Sendgrid,
    /// Mailgun: webhooks at `/webhooks/mailgun`, routes at `/webhooks/mailgun-inbound`.
    Mailgun,
    /// Amazon SES events through an SNS subscription at `/webhooks/ses`.
    Ses,
    /// Postmark: outbound webhooks at `/webhooks/postmark`, the inbound webhook at
    /// `/webhooks/postmark-inbound` (both behind Basic credentials in the URL: Postmark does
    /// not sign webhooks), the Email API.
    Postmark,
}

/// An SNS signing certificate pinned by URL (no fetch at run time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PinnedCertificate {
    /// The `SigningCertURL` (`https://sns.<region>.amazonaws.com/….pem`).
    pub url: String,
    /// A file holding the PEM certificate.
    pub pem_file: String,
}

/// An email provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `sendgrid`, `mailgun`, `ses` or `postmark`.
    pub provider: EmailProvider,
    /// SendGrid: the Event Webhook verification key (base64 DER or PEM). Mailgun: the HTTP
    /// webhook signing key (not the API key).
    #[serde(default)]
    pub events_key: Option<SecretRef>,
    /// SendGrid Inbound Parse: the password of the Basic credentials in the destination URL
    /// (`https://sendgrid:<password>@…/webhooks/sendgrid-inbound`). Left out, inbound
    /// replies are not taken.
    #[serde(default)]
    pub inbound_password: Option<SecretRef>,
    /// Postmark: the password of the Basic credentials in both webhook URLs
    /// (`https://postmark:<password>@…/webhooks/postmark` and `…/webhooks/postmark-inbound`);
    /// 24 characters at least. Postmark signs nothing: this password is the webhooks' only
    /// protection (with its IP list in a firewall).
    #[serde(default)]
    pub webhook_password: Option<SecretRef>,
    /// Postmark: the message stream to send on (default `outbound`).
    #[serde(default)]
    pub message_stream: Option<String>,
    /// Send email through the provider's API instead of `[smtp]` (SendGrid, Postmark).
    #[serde(default)]
    pub send: bool,
    /// The API key (for `send`; Postmark: the server token).
    #[serde(default)]
    pub api_key: Option<SecretRef>,
    /// The sender (for `send`).
    #[serde(default)]
    pub from: Option<String>,
    /// Where replies go (for `send`; the inbound domain, so survey replies are read).
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Another API host (SendGrid EU: `https://api.eu.sendgrid.com`; a stand-in).
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// Write opens to the ledger (unreliable; never acted on).
    #[serde(default)]
    pub record_opens: bool,
    /// SES: the SNS topic ARNs events come from.
    #[serde(default)]
    pub sns_topics: Vec<String>,
    /// SES: certificates pinned by URL; others are fetched from Amazon's SNS hosts only.
    #[serde(default)]
    pub sns_certificates: Vec<PinnedCertificate>,
    /// SES: refuse SNS SignatureVersion 1 (SHA1).
    #[serde(default)]
    pub require_sns_signature_v2: bool,
}

pub(super) fn semantic_email(
    e: &EmailConfig,
    has_smtp: bool,
    report: &mut dyn FnMut(&str, String),
) {
    match e.provider {
        EmailProvider::Sendgrid | EmailProvider::Mailgun => match &e.events_key {
            None => report(
                "email.events_key",
                "the key that verifies the provider's event webhooks is needed".into(),
            ),
            Some(k) => {
                secret_ok(k, "email.events_key", report);
                if e.provider == EmailProvider::Sendgrid
                    && let Ok(s) = k.resolve()
                    && aftercare_sendgrid::EventWebhookKey::parse(&String::from_utf8_lossy(
                        s.expose(),
                    ))
                    .is_err()
                {
                    report(
                        "email.events_key",
                        "not a P-256 public key (base64 DER or PEM): copy the verification key from SendGrid's Event Webhook settings".into(),
                    );
                }
            }
        },
        EmailProvider::Postmark => {
            if e.events_key.is_some() {
                report(
                    "email.events_key",
                    "Postmark does not sign webhooks: set email.webhook_password (the Basic credentials in the webhook URLs) instead".into(),
                );
            }
            match &e.webhook_password {
                None => report(
                    "email.webhook_password",
                    "Postmark does not sign webhooks; the password in the webhook URLs is their protection and is needed".into(),
                ),
                Some(p) => {
                    secret_ok(p, "email.webhook_password", report);
                    if let Ok(s) = p.resolve()
                        && s.expose().len() < 24
                    {
                        report(
                            "email.webhook_password",
                            "use a random password of 24 characters at least: it is the webhooks' only protection".into(),
                        );
                    }
                }
            }
        }
        EmailProvider::Ses => {
            if e.sns_topics.is_empty() {
                report(
                    "email.sns_topics",
                    "name the SNS topic ARNs SES publishes to".into(),
                );
            }
            for (i, c) in e.sns_certificates.iter().enumerate() {
                if !aftercare_ses::cert_url_allowed(&c.url) {
                    report(
                        &format!("email.sns_certificates[{i}].url"),
                        format!("`{}` is not an Amazon SNS certificate URL", c.url),
                    );
                }
                if std::fs::metadata(&c.pem_file).is_err() {
                    report(
                        &format!("email.sns_certificates[{i}].pem_file"),
                        format!("`{}` cannot be read", c.pem_file),
                    );
                }
            }
        }
    }
    if let Some(p) = &e.inbound_password {
        if e.provider != EmailProvider::Sendgrid {
            report(
                "email.inbound_password",
                "only SendGrid's Inbound Parse uses URL credentials (Mailgun routes are signed)"
                    .into(),
            );
        }
        secret_ok(p, "email.inbound_password", report);
    }
    if e.webhook_password.is_some() && e.provider != EmailProvider::Postmark {
        report(
            "email.webhook_password",
            "only Postmark's webhooks use this password".into(),
        );
    }
    if e.message_stream.is_some() && e.provider != EmailProvider::Postmark {
        report(
            "email.message_stream",
            "message streams are Postmark's".into(),
        );
    }
    if e.send {
        if !matches!(
            e.provider,
            EmailProvider::Sendgrid | EmailProvider::Postmark
        ) {
            report(
                "email.send",
                "sending through the API is available with SendGrid and Postmark; use [smtp] for this provider"
                    .into(),
            );
        }
        if has_smtp {
            report(
                "email.send",
                "email goes either through [smtp] or the provider's API: remove one".into(),
            );
        }
        match &e.api_key {
            None => report("email.api_key", "the API key is needed to send".into()),
            Some(k) => secret_ok(k, "email.api_key", report),
        }
        match &e.from {
            Some(f) if is_mailbox(f) => {}
            Some(f) => report("email.from", format!("`{f}` is not an email address")),
            None => report("email.from", "the sender address is needed to send".into()),
        }
    }
    if let Some(r) = &e.reply_to
        && !is_mailbox(r)
    {
        report("email.reply_to", format!("`{r}` is not an email address"));
    }
    if let Some(u) = &e.api_base_url
        && let Err(m) = http_url(u)
    {
        report("email.api_base_url", m);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    const BASE: &str = "[shopify]\nshop = \"s.myshopify.com\"\naccess_token = { value = \"a\" }\nclient_secrets = [{ value = \"s\" }]\ntracking_link_key = { value = \"k\" }\n\n[server]\npublic_url = \"https://shop.example\"\n";
    /// SendGrid's published test key (sendgrid-python's event webhook tests).
    const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";

    fn problems(text: &str) -> Vec<String> {
        match super::super::check(text) {
            Ok(_) => Vec::new(),
            Err(p) => p
                .into_iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect(),
        }
    }

    #[test]
    fn a_sendgrid_section_is_accepted_and_its_mistakes_reported() {
        let ok = format!(
            "{BASE}\n[email]\nprovider = \"sendgrid\"\nevents_key = {{ value = \"{KEY}\" }}\ninbound_password = {{ value = \"p\" }}\nsend = true\napi_key = {{ value = \"SG.x\" }}\nfrom = \"shop@shop.example\"\nreply_to = \"replies@parse.shop.example\"\n"
        );
        let p = problems(&ok);
        assert!(p.iter().all(|l| !l.starts_with("email")), "{p:?}");
        let bad = format!(
            "{BASE}\n[email]\nprovider = \"sendgrid\"\nevents_key = {{ value = \"not-a-key\" }}\nsend = true\nfrom = \"nobody\"\n"
        );
        let p = problems(&bad);
        for path in ["email.events_key:", "email.api_key:", "email.from:"] {
            assert!(p.iter().any(|l| l.starts_with(path)), "{path} in {p:?}");
        }
    }

    #[test]
    fn a_postmark_section_is_accepted_and_its_mistakes_reported() {
        let ok = format!(
            "{BASE}\n[email]\nprovider = \"postmark\"\nwebhook_password = {{ value = \"0123456789abcdef0123456789\" }}\nsend = true\napi_key = {{ value = \"server-token\" }}\nfrom = \"shop@shop.example\"\nmessage_stream = \"outbound\"\n"
        );
        let p = problems(&ok);
        assert!(p.iter().all(|l| !l.starts_with("email")), "{p:?}");
        let missing = format!("{BASE}\n[email]\nprovider = \"postmark\"\n");
        let p = problems(&missing);
        assert!(
            p.iter().any(|l| l.starts_with("email.webhook_password:")),
            "{p:?}"
        );
        let weak = format!(
            "{BASE}\n[email]\nprovider = \"postmark\"\nwebhook_password = {{ value = \"short\" }}\nevents_key = {{ value = \"k\" }}\n"
        );
        let p = problems(&weak);
        for path in ["email.webhook_password:", "email.events_key:"] {
            assert!(p.iter().any(|l| l.starts_with(path)), "{path} in {p:?}");
        }
        let elsewhere = format!(
            "{BASE}\n[email]\nprovider = \"mailgun\"\nevents_key = {{ value = \"k\" }}\nwebhook_password = {{ value = \"0123456789abcdef0123456789\" }}\n"
        );
        let p = problems(&elsewhere);
        assert!(
            p.iter().any(|l| l.starts_with("email.webhook_password:")),
            "{p:?}"
        );
    }

    #[test]
    fn ses_needs_topics_and_amazon_certificate_urls() {
        let bad = format!(
            "{BASE}\n[email]\nprovider = \"ses\"\nsns_certificates = [{{ url = \"https://evil.example/c.pem\", pem_file = \"/nonexistent.pem\" }}]\n"
        );
        let p = problems(&bad);
        for path in [
            "email.sns_topics:",
            "email.sns_certificates[0].url:",
            "email.sns_certificates[0].pem_file:",
        ] {
            assert!(p.iter().any(|l| l.starts_with(path)), "{path} in {p:?}");
        }
    }
}
