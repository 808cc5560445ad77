//! The inbound webhook (postmarkapp.com/developer/webhooks/inbound-webhook; fields as in
//! Postmark's client, `models/webhooks/payload/InboundWebhook.d.ts`): an email to the
//! server's inbound address is POSTed as JSON with `FromFull`, `ToFull`,
//! `OriginalRecipient`, `Subject`, `MessageID`, `TextBody`, `HtmlBody`,
//! `StrippedTextReply`, `Headers[{Name, Value}]`...
//!
//! The reply's text is the `TextBody` above the quoted history, cut by the sdk's
//! [`visible_reply`] (separators in the six languages; Postmark's `StrippedTextReply` knows
//! English clients only), else `StrippedTextReply`, else the subject without `Re:` (an
//! "unsubscribe" in the subject). Postmark retries any answer but `200` for ~10.5 hours,
//! except `403`, which stops at once: nothing transient answers `403`.

use aftercare::Error;
use aftercare::email_reply::visible_reply;
use aftercare::model::{ChannelKind, InboundMessage, PlatformEvent};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Secret, VerifiedWebhook, WebhookRequest, WebhookSource, body_hash_key,
};
use serde_json::Value;

use crate::{BasicAuth, PostmarkError};

/// The inbound webhook as a source (inbox topic `inbound`).
#[derive(Clone, Debug)]
pub struct PostmarkInbound {
    auth: BasicAuth,
    max_body: usize,
}

impl PostmarkInbound {
    /// Requests must present these Basic credentials (put them in the inbound webhook URL).
    pub fn new(user: impl Into<String>, password: Secret) -> Result<Self, PostmarkError> {
        Ok(Self {
            auth: BasicAuth::new(user, password)?,
            // Attachments come base64 inside the JSON; Postmark's inbound limit is 35 MB.
            max_body: 50 * 1024 * 1024,
        })
    }
}

impl WebhookSource for PostmarkInbound {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.max_body {
            return Err(Rejection::TooLarge {
                limit: self.max_body,
                size: request.body.len(),
            });
        }
        if !self.auth.check(request) {
            return Err(Rejection::Mismatch);
        }
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        let v: Value =
            serde_json::from_slice(request.body).map_err(|_| Rejection::BadEncoding {
                header: "body".into(),
                expected: "a Postmark inbound JSON object",
            })?;
        // Postmark's id of the inbound message is the same on every retry.
        let key = match v["MessageID"]
            .as_str()
            .filter(|m| !m.is_empty() && m.len() <= 200)
        {
            Some(id) => format!("pm-inbound:{id}"),
            None => body_hash_key(request.body),
        };
        let mut out = VerifiedWebhook::new(key);
        out.topic = Some("inbound".into());
        Ok(out)
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

/// The customer's reply in a stored inbound webhook.
pub fn decode_entry(entry: &InboxEntry) -> Result<InboundMessage, Error> {
    let what = "a Postmark inbound webhook";
    let v: Value = serde_json::from_slice(&entry.body).map_err(|e| Error::decode(what, e))?;
    let from = v["FromFull"]["Email"]
        .as_str()
        .or(v["From"].as_str())
        .map(address_of)
        .filter(|f| f.contains('@'))
        .ok_or_else(|| Error::decode(what, "it names no sender"))?;
    let to = v["OriginalRecipient"]
        .as_str()
        .or(v["ToFull"][0]["Email"].as_str())
        .or(v["To"].as_str())
        .map(address_of)
        .unwrap_or_default();
    let text = v["TextBody"]
        .as_str()
        .map(visible_reply)
        .filter(|t| !t.is_empty())
        .or_else(|| {
            v["StrippedTextReply"]
                .as_str()
                .map(visible_reply)
                .filter(|t| !t.is_empty())
        })
        .or_else(|| v["Subject"].as_str().map(strip_re))
        .unwrap_or_default();
    let mut m = InboundMessage::new(ChannelKind::Email, from, to, text, entry.received_at);
    m.provider_message_id =
        header(&v, "Message-ID").or_else(|| v["MessageID"].as_str().map(str::to_owned));
    m.in_reply_to = header(&v, "In-Reply-To");
    Ok(m)
}

fn header(v: &Value, name: &str) -> Option<String> {
    v["Headers"].as_array()?.iter().find_map(|h| {
        h["Name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            .then(|| h["Value"].as_str().map(|s| s.trim().to_owned()))
            .flatten()
    })
}

/// `Name <a@b.c>` → `a@b.c`.
pub fn address_of(v: &str) -> String {
    let v = v.trim();
    match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => v[a + 1..b].trim().to_owned(),
        _ => v.to_owned(),
    }
}

/// A subject without its `Re:` / `AW:` / `YNT:` / `رد:` prefixes.
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
        // The prefixes are ASCII or Arabic: lowercasing keeps their byte length.
        t = t.get(p.len()..).unwrap_or("").trim_start();
    }
}
