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
    /// `sendgrid`, `mailgun` or `ses`.
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
    /// Send email through the provider's API instead of `[smtp]` (SendGrid).
    #[serde(default)]
    pub send: bool,
    /// The API key (for `send`).
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
    if e.send {
        if e.provider != EmailProvider::Sendgrid {
            report(
                "email.send",
                "sending through the API is available with SendGrid; use [smtp] for this provider"
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
