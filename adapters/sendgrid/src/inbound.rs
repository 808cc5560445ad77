//! Inbound Parse (docs: twilio.com/docs/sendgrid/for-developers/parsing-email/inbound-email):
//! a customer's email to the shop's receiving domain is POSTed as `multipart/form-data`
//! with `from`, `to`, `subject`, `text`, `html`, `headers`, `envelope` (JSON: the SMTP
//! recipients and sender), `charsets`...
//!
//! SendGrid does not sign these requests. The destination URL carries HTTP Basic
//! credentials (`https://user:pass@host/webhooks/sendgrid-inbound`), which the request
//! presents as `Authorization: Basic`; [`SendGridInbound`] requires them, compared in
//! constant time. A refused request is `401`, a storage failure `503`: SendGrid retries
//! 5xx for 72 hours but drops an email on any 4xx, so nothing transient may answer 4xx.

use aftercare::Error;
use aftercare::email_reply::visible_reply;
use aftercare::model::{ChannelKind, InboundMessage, PlatformEvent};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Secret, VerifiedWebhook, WebhookRequest, WebhookSource, body_hash_key,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use subtle::ConstantTimeEq as _;

/// The inbox meta key keeping the request's `Content-Type` (its multipart boundary).
pub const CONTENT_TYPE_META: &str = "content-type";

/// Inbound Parse as a webhook source (inbox topic `inbound`).
#[derive(Clone, Debug)]
pub struct SendGridInbound {
    user: String,
    password: Secret,
    max_body: usize,
}

impl SendGridInbound {
    /// Requests must present these Basic credentials (put them in the destination URL).
    pub fn new(user: impl Into<String>, password: Secret) -> Self {
        Self {
            user: user.into(),
            password,
            max_body: 30 * 1024 * 1024,
        }
    }

    fn authorized(&self, header: Option<&str>) -> bool {
        let Some(b64) = header.and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        }) else {
            return false;
        };
        let Ok(raw) = B64.decode(b64) else {
            return false;
        };
        let mut want = self.user.as_bytes().to_vec();
        want.push(b':');
        want.extend_from_slice(self.password.expose());
        !self.password.is_empty() && bool::from(raw.ct_eq(&want))
    }
}

impl WebhookSource for SendGridInbound {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.max_body {
            return Err(Rejection::TooLarge {
                limit: self.max_body,
                size: request.body.len(),
            });
        }
        if !self.authorized(request.headers.get_str("authorization")) {
            return Err(Rejection::Mismatch);
        }
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        let ct =
            request
                .headers
                .get_str("content-type")
                .ok_or_else(|| Rejection::MissingHeader {
                    header: "Content-Type".into(),
                })?;
        let mut v = VerifiedWebhook::new(body_hash_key(request.body));
        v.topic = Some("inbound".into());
        v.meta.insert(CONTENT_TYPE_META.into(), ct.to_owned());
        Ok(v)
    }

    fn max_body_bytes(&self) -> usize {
        self.max_body
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode_entry(entry)?;
        Ok(vec![PlatformEvent::Unrecognized {
            topic: "inbound".into(),
        }])
    }
}

/// The customer's reply in a stored Inbound Parse request: sender from `envelope.from`
/// (else the `from` header's address), our address from `envelope.to`, the text above the
/// quoted history (else the subject without `Re:`, for an "unsubscribe" in the subject).
pub fn decode_entry(entry: &InboxEntry) -> Result<InboundMessage, Error> {
    let what = "a SendGrid Inbound Parse request";
    let ct = entry
        .meta
        .get(CONTENT_TYPE_META)
        .ok_or_else(|| Error::decode(what, "no content type was stored with it"))?;
    let fields = multipart(ct, &entry.body).map_err(|m| Error::decode(what, m))?;
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let envelope: serde_json::Value = get("envelope")
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default();
    let from = envelope["from"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| get("from").map(address_of))
        .filter(|f| f.contains('@'))
        .ok_or_else(|| Error::decode(what, "it names no sender"))?;
    let to = envelope["to"][0]
        .as_str()
        .map(str::to_owned)
        .or_else(|| get("to").map(address_of))
        .unwrap_or_default();
    let text = get("text")
        .map(visible_reply)
        .filter(|t| !t.is_empty())
        .or_else(|| get("subject").map(strip_re))
        .unwrap_or_default();
    let headers = get("headers").unwrap_or("");
    let mut m = InboundMessage::new(ChannelKind::Email, from, to, text, entry.received_at);
    m.provider_message_id = header_value(headers, "message-id");
    m.in_reply_to = header_value(headers, "in-reply-to");
    Ok(m)
}

/// `Name <a@b.c>` → `a@b.c`.
pub fn address_of(v: &str) -> String {
    let v = v.trim();
    match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => v[a + 1..b].trim().to_owned(),
        _ => v.to_owned(),
    }
}

/// A subject without its `Re:` / `RE:` / `AW:` / `YNT:` prefixes.
pub fn strip_re(s: &str) -> String {
    let mut t = s.trim();
    loop {
        let lower = t.to_lowercase();
        let Some(p) = ["re:", "aw:", "ynt:", "rv:", "res:", "رد:"]
            .iter()
            .find(|p| lower.starts_with(*p))
        else {
            return t.to_owned();
        };
        t = t[p.len()..].trim_start();
    }
}

fn header_value(headers: &str, name: &str) -> Option<String> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

/// The text fields of a `multipart/form-data` body (files are skipped).
pub fn multipart(content_type: &str, body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let boundary = content_type
        .split(';')
        .find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty())
        .ok_or("the content type has no multipart boundary")?;
    let delim = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    let mut parts = text.split(delim.as_str());
    parts.next(); // the preamble
    for part in parts {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part
            .split_once("\r\n\r\n")
            .or_else(|| part.split_once("\n\n"))
        else {
            continue;
        };
        let disposition = head
            .lines()
            .find(|l| l.to_lowercase().starts_with("content-disposition:"))
            .unwrap_or("");
        if disposition.contains("filename=") {
            continue;
        }
        let Some(name) = param(disposition, "name") else {
            continue;
        };
        let value = value
            .strip_suffix("\r\n")
            .or_else(|| value.strip_suffix('\n'))
            .unwrap_or(value);
        out.push((name, value.to_owned()));
    }
    if out.is_empty() {
        return Err("no form fields in the multipart body".into());
    }
    Ok(out)
}

fn param(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
    })
}
