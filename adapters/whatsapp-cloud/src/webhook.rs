//! Meta's webhooks: the GET verification handshake, `X-Hub-Signature-256`, and the
//! `whatsapp_business_account` payload (incoming messages and statuses).
//!
//! Payload shapes follow
//! `https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/text/`,
//! `.../messages/button/`, `.../messages/interactive/` and `.../messages/status/`.
//!
//! **A body is what it claims, or it does not decode** ([`parse_webhook`]): `object` must be
//! `whatsapp_business_account` (another object is an [`Error::Decode`]); each `entry` has its
//! `id` (the WhatsApp Business Account) and `changes`, each change its `field` and `value`. A
//! change of field `messages` must carry `value.metadata` with `phone_number_id` and
//! `display_phone_number`, each message its `from`, `id`, `timestamp` and `type`, each status
//! its `id`, `status` and `timestamp` (`recipient_id` may give way to a business-scoped user
//! id, so it is not required). A change of another field (`account_update`,
//! `message_template_status_update`...) is not read as messages: it is counted in
//! [`WebhookBatch::other_fields`], and a body of such changes only decodes to
//! [`PlatformEvent::Unrecognized`] (`whatsapp/other`).
//!
//! **Whose webhook it is.** Meta signs with the app's secret, and one app can serve several
//! numbers and business accounts: with [`WhatsAppCloudWebhook::phone_number_id`] (and
//! [`WhatsAppCloudWebhook::business_account_id`]) a body naming another phone number id (or
//! business account) is refused *at verify*, after the signature, with
//! [`Rejection::WrongAccount`] (403), and not stored: another business's customers' messages
//! are personal data this installation has no use for, and the signature covers the body, so
//! the check is a cheap parse of what was just verified. A POST mixing another number's
//! changes with ours is refused whole (Meta retries it); give every number the app serves.
//! An entry stored before the setting does not decode (dead-lettered with the reason).

use aftercare::Error;
use aftercare::model::{DeliveryStatus, InboundMessage, PlatformEvent};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest, WebhookSource,
    body_hash_key,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The header carrying Meta's signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
/// Topic of a payload with incoming messages.
pub const TOPIC_MESSAGES: &str = "whatsapp/messages";
/// Topic of a payload with statuses only.
pub const TOPIC_STATUSES: &str = "whatsapp/statuses";
/// Topic of any other payload (errors, account updates).
pub const TOPIC_OTHER: &str = "whatsapp/other";

// ---------------------------------------------------------------- handshake

/// Why a verification handshake was refused (answer 403).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// `hub.mode` is not `subscribe`.
    #[error("`hub.mode` is not `subscribe`")]
    NotSubscribe,
    /// `hub.verify_token` differs from the configured token.
    #[error("`hub.verify_token` does not match the configured verify token")]
    WrongToken,
    /// `hub.challenge` is missing.
    #[error("`hub.challenge` is missing")]
    NoChallenge,
}

/// Answers Meta's GET verification request: given the query parameters, returns the
/// `hub.challenge` to echo with 200 when `hub.mode` is `subscribe` and `hub.verify_token`
/// equals `verify_token` (compared in constant time); otherwise answer 403.
///
/// ```
/// use aftercare::webhook::Secret;
/// use aftercare_whatsapp_cloud::webhook::verify_subscription;
/// let q = [("hub.mode", "subscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", "meatyhamhock")];
/// assert_eq!(verify_subscription(q, &Secret::from("meatyhamhock")).unwrap(), "1158201444");
/// ```
pub fn verify_subscription<K: AsRef<str>, V: AsRef<str>>(
    query: impl IntoIterator<Item = (K, V)>,
    verify_token: &Secret,
) -> Result<String, HandshakeError> {
    let (mut mode, mut token, mut challenge) = (None, None, None);
    for (k, v) in query {
        match k.as_ref() {
            "hub.mode" => mode = Some(v.as_ref().to_owned()),
            "hub.verify_token" => token = Some(v.as_ref().to_owned()),
            "hub.challenge" => challenge = Some(v.as_ref().to_owned()),
            _ => {}
        }
    }
    if mode.as_deref() != Some("subscribe") {
        return Err(HandshakeError::NotSubscribe);
    }
    let given = token.unwrap_or_default();
    let ok: bool = given.as_bytes().ct_eq(verify_token.expose()).into();
    if !ok || verify_token.is_empty() {
        return Err(HandshakeError::WrongToken);
    }
    challenge.ok_or(HandshakeError::NoChallenge)
}

/// [`verify_subscription`] over a raw query string (`hub.mode=subscribe&...`).
pub fn verify_subscription_query(
    query: &str,
    verify_token: &Secret,
) -> Result<String, HandshakeError> {
    let pairs: Vec<(String, String)> = form_pairs(query.as_bytes());
    verify_subscription(pairs, verify_token)
}

fn form_pairs(input: &[u8]) -> Vec<(String, String)> {
    // `application/x-www-form-urlencoded` decoding without another dependency.
    fn decode(s: &[u8]) -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => match hex::decode(&s[i + 1..i + 3]) {
                    Ok(b) => {
                        out.extend_from_slice(&b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                },
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    input
        .split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}

// ---------------------------------------------------------------- payload

#[derive(Debug, Deserialize)]
struct Payload {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    /// The WhatsApp Business Account id.
    id: String,
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: String,
    value: serde_json::Value,
}

/// The `value` of a change of field `messages`.
#[derive(Debug, Deserialize)]
struct MessagesValue {
    metadata: Metadata,
    #[serde(default)]
    messages: Vec<RawMessage>,
    #[serde(default)]
    statuses: Vec<RawStatus>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    display_phone_number: String,
    phone_number_id: String,
}

#[derive(Debug, Deserialize)]
struct RawMessage {
    from: String,
    id: String,
    timestamp: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<TextBody>,
    #[serde(default)]
    button: Option<ButtonBody>,
    #[serde(default)]
    interactive: Option<Interactive>,
    #[serde(default)]
    context: Option<Context>,
}

#[derive(Debug, Deserialize)]
struct TextBody {
    #[serde(default)]
    body: String,
}

#[derive(Debug, Deserialize)]
struct ButtonBody {
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Interactive {
    #[serde(default)]
    button_reply: Option<Reply>,
    #[serde(default)]
    list_reply: Option<Reply>,
}

#[derive(Debug, Deserialize)]
struct Reply {
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: String,
}

#[derive(Debug, Deserialize)]
struct Context {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawStatus {
    id: String,
    status: String,
    timestamp: String,
    #[serde(default)]
    recipient_id: Option<String>,
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    errors: Vec<RawError>,
}

#[derive(Debug, Deserialize)]
struct RawError {
    #[serde(default)]
    code: Option<i64>,
}

/// A status of a message we sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusUpdate {
    /// Meta's id of the message (`wamid...`), the receipt's id.
    pub message_id: String,
    /// The status.
    pub status: DeliveryStatus,
    /// The recipient (E.164, with `+`).
    pub recipient: Option<String>,
    /// When Meta says it happened.
    pub at: Option<DateTime<Utc>>,
    /// The `biz_opaque_callback_data` the message was sent with: the outbox key, for
    /// messages sent by [`WhatsAppCloudChannel`](crate::WhatsAppCloudChannel).
    pub callback_data: Option<String>,
}

impl StatusUpdate {
    /// The de-duplication key: `{message id}:{status}`.
    pub fn dedupe_key(&self) -> String {
        let s = match &self.status {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed { .. } => "failed",
            DeliveryStatus::Unknown(raw) => raw.as_str(),
            _ => "other",
        };
        format!("{}:{s}", self.message_id)
    }
}

/// What one webhook POST carried: incoming messages and statuses (one POST can batch several
/// entries and changes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookBatch {
    /// Messages from customers.
    pub messages: Vec<InboundMessage>,
    /// Statuses of messages we sent.
    pub statuses: Vec<StatusUpdate>,
    /// The fields of the changes that are not `messages` (`account_update`...), not read.
    pub other_fields: Vec<String>,
    /// The WhatsApp Business Account ids of the entries.
    pub business_account_ids: Vec<String>,
    /// The phone number ids (`value.metadata.phone_number_id`) of the `messages` changes.
    pub phone_number_ids: Vec<String>,
}

impl WebhookBatch {
    /// The de-duplication key of the whole POST: the message id, or `{id}:{status}`, when it
    /// carries one item; `batch:` + SHA-256 of the sorted item keys when it carries several;
    /// `None` when it carries none.
    pub fn dedupe_key(&self) -> Option<String> {
        let mut keys: Vec<String> = self
            .messages
            .iter()
            .filter_map(|m| m.provider_message_id.clone())
            .chain(self.statuses.iter().map(StatusUpdate::dedupe_key))
            .collect();
        match keys.len() {
            0 => None,
            1 => keys.pop(),
            _ => {
                keys.sort();
                Some(format!(
                    "batch:{}",
                    hex::encode(Sha256::digest(keys.join("\n").as_bytes()))
                ))
            }
        }
    }
}

fn e164(n: &str) -> String {
    let n = n.trim();
    if n.starts_with('+') {
        n.to_owned()
    } else {
        format!("+{n}")
    }
}

fn unix(ts: Option<&str>) -> Option<DateTime<Utc>> {
    ts.and_then(|t| t.trim().parse::<i64>().ok())
        .and_then(|s| DateTime::from_timestamp(s, 0))
}

fn status_of(s: &RawStatus) -> DeliveryStatus {
    match s.status.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed {
            code: s.errors.iter().find_map(|e| e.code).map(|c| c.to_string()),
        },
        other => DeliveryStatus::Unknown(other.to_owned()),
    }
}

/// Decodes a `whatsapp_business_account` webhook body; what it requires is in the module
/// docs: a body that is not what it claims is an [`Error::Decode`], never an empty batch.
///
/// - `text` → its body; template quick-reply `button` → `button.text`, with `button.payload`
///   as `button_payload`; `interactive` `button_reply`/`list_reply` → `title`, with `id` as
///   `button_payload`; other types (media, location...) → empty text.
/// - `from` (a `wa_id`) and our display number become E.164 with `+`; `context.id` becomes
///   `in_reply_to`; `timestamp` (Unix seconds) becomes `received_at`, or `received_at` when
///   it is not a number.
/// - statuses `sent`/`delivered`/`read`/`failed` (with `errors[].code`); others are kept raw;
///   `biz_opaque_callback_data` becomes `callback_data`.
/// - changes of other fields are listed in [`WebhookBatch::other_fields`], not read.
pub fn parse_webhook(body: &[u8], received_at: DateTime<Utc>) -> Result<WebhookBatch, Error> {
    const WHAT: &str = "a WhatsApp Cloud API webhook";
    let p: Payload = serde_json::from_slice(body).map_err(|e| Error::decode(WHAT, e))?;
    if p.object != "whatsapp_business_account" {
        return Err(Error::decode(
            WHAT,
            format!(
                "`object` is `{}`, not `whatsapp_business_account`",
                p.object
            ),
        ));
    }
    let mut batch = WebhookBatch::default();
    for entry in p.entry {
        batch.business_account_ids.push(entry.id);
        for change in entry.changes {
            if change.field != "messages" {
                batch.other_fields.push(change.field);
                continue;
            }
            let v: MessagesValue = serde_json::from_value(change.value)
                .map_err(|e| Error::decode("a WhatsApp Cloud API `messages` change", e))?;
            let ours = e164(&v.metadata.display_phone_number);
            batch.phone_number_ids.push(v.metadata.phone_number_id);
            for m in v.messages {
                let (text, payload) = match m.kind.as_str() {
                    "text" => (m.text.map(|t| t.body).unwrap_or_default(), None),
                    "button" => {
                        let b = m.button;
                        (
                            b.as_ref().and_then(|b| b.text.clone()).unwrap_or_default(),
                            b.and_then(|b| b.payload),
                        )
                    }
                    "interactive" => {
                        let r = m.interactive.and_then(|i| i.button_reply.or(i.list_reply));
                        match r {
                            Some(r) => (r.title, Some(r.id)),
                            None => (String::new(), None),
                        }
                    }
                    _ => (String::new(), None),
                };
                batch.messages.push(crate::inbound_message(
                    &e164(&m.from),
                    &ours,
                    &text,
                    payload.as_deref(),
                    &m.id,
                    m.context.and_then(|c| c.id).as_deref(),
                    unix(Some(&m.timestamp)).unwrap_or(received_at),
                )?);
            }
            for s in v.statuses {
                batch.statuses.push(StatusUpdate {
                    status: status_of(&s),
                    message_id: s.id,
                    recipient: s.recipient_id.as_deref().map(e164),
                    at: unix(Some(&s.timestamp)),
                    callback_data: s.biz_opaque_callback_data.filter(|d| !d.is_empty()),
                });
            }
        }
    }
    Ok(batch)
}

/// Decodes a stored webhook (from the inbox).
pub fn decode_entry(entry: &InboxEntry) -> Result<WebhookBatch, Error> {
    parse_webhook(&entry.body, entry.received_at)
}

// ---------------------------------------------------------------- source

/// Meta's WhatsApp webhooks as a [`WebhookSource`]: `X-Hub-Signature-256: sha256=<hex>`,
/// HMAC-SHA256 of the raw body with the App Secret, checked before anything is parsed.
///
/// ```
/// use aftercare::webhook::{RawHeaders, WebhookRequest, WebhookSource};
/// use aftercare_whatsapp_cloud::webhook::WhatsAppCloudWebhook;
/// let src = WhatsAppCloudWebhook::new("TEST_APP_SECRET");
/// let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
/// let headers = src.sign(body);
/// let req = WebhookRequest::new(&headers, body, chrono::Utc::now());
/// assert!(src.verify(&req).is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct WhatsAppCloudWebhook {
    verifier: Verifier,
    verify_token: Option<Secret>,
    phone_number_ids: Vec<String>,
    business_account_ids: Vec<String>,
}

impl WhatsAppCloudWebhook {
    /// A source checking signatures with the app's App Secret.
    pub fn new(app_secret: impl Into<Secret>) -> Self {
        Self {
            verifier: Verifier::new(
                Scheme::hmac_sha256_hex_prefixed(SIGNATURE_HEADER, "sha256="),
                app_secret.into(),
            ),
            verify_token: None,
            phone_number_ids: Vec::new(),
            business_account_ids: Vec::new(),
        }
    }

    /// A source accepting several App Secrets during a rotation (the current one first).
    pub fn with_secrets(secrets: impl IntoIterator<Item = Secret>) -> Self {
        Self {
            verifier: Verifier::with_secrets(
                Scheme::hmac_sha256_hex_prefixed(SIGNATURE_HEADER, "sha256="),
                secrets,
            ),
            verify_token: None,
            phone_number_ids: Vec::new(),
            business_account_ids: Vec::new(),
        }
    }

    /// Answers Meta's GET verification handshake on the same URL with `verify_token` (the
    /// "Verify token" entered in the App Dashboard), through
    /// [`WebhookSource::handshake`]: `aftercare::http::WebhookRoutes` then serves both the
    /// GET and the POSTs on `/webhooks/{source}`.
    pub fn verify_token(mut self, verify_token: impl Into<Secret>) -> Self {
        self.verify_token = Some(verify_token.into());
        self
    }

    /// Takes only webhooks of this business phone number: a `messages` change whose
    /// `value.metadata.phone_number_id` is another is refused with
    /// [`Rejection::WrongAccount`] (403). Call it again for each number the app serves.
    pub fn phone_number_id(mut self, id: impl Into<String>) -> Self {
        self.phone_number_ids.push(id.into());
        self
    }

    /// Takes only webhooks of this WhatsApp Business Account: an entry whose `id` is another
    /// is refused with [`Rejection::WrongAccount`] (403). Call it again for each account.
    pub fn business_account_id(mut self, id: impl Into<String>) -> Self {
        self.business_account_ids.push(id.into());
        self
    }

    /// The first phone number id or business account id of `batch` that is not configured.
    fn other_account(&self, batch: &WebhookBatch) -> Option<Rejection> {
        let foreign = |configured: &[String], claimed: &[String]| {
            if configured.is_empty() {
                return None;
            }
            claimed.iter().find(|c| !configured.contains(c)).cloned()
        };
        if let Some(claimed) = foreign(&self.business_account_ids, &batch.business_account_ids) {
            return Some(Rejection::WrongAccount {
                what: "WhatsApp Business Account",
                claimed,
            });
        }
        foreign(&self.phone_number_ids, &batch.phone_number_ids).map(|claimed| {
            Rejection::WrongAccount {
                what: "phone number id",
                claimed,
            }
        })
    }

    /// The headers Meta would send with `body` (for tests).
    pub fn sign(&self, body: &[u8]) -> aftercare::webhook::RawHeaders {
        self.verifier.sign(body, Utc::now())
    }
}

impl WebhookSource for WhatsAppCloudWebhook {
    fn handshake(&self, query: &str) -> Option<Result<String, Rejection>> {
        let token = self.verify_token.as_ref()?;
        Some(
            verify_subscription_query(query, token).map_err(|e| Rejection::HandshakeRefused {
                reason: e.to_string(),
            }),
        )
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        self.verifier
            .verify(request.headers, request.body, request.received_at)?;
        // Verified: now the body may be read, for whose it is, the key and the topic. A body
        // that does not decode is still stored (and dead-lettered by `decode` with the
        // reason), keyed by its hash.
        let (key, topic) = match parse_webhook(request.body, request.received_at) {
            Ok(b) => {
                if let Some(refused) = self.other_account(&b) {
                    return Err(refused);
                }
                let topic = if !b.messages.is_empty() {
                    TOPIC_MESSAGES
                } else if !b.statuses.is_empty() {
                    TOPIC_STATUSES
                } else {
                    TOPIC_OTHER
                };
                (
                    b.dedupe_key()
                        .unwrap_or_else(|| body_hash_key(request.body)),
                    topic,
                )
            }
            Err(_) => (body_hash_key(request.body), TOPIC_OTHER),
        };
        let mut v = VerifiedWebhook::new(key);
        v.topic = Some(topic.into());
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        // Messaging is not a platform event: check the body decodes and is ours, then hand
        // the topic on.
        let batch = decode_entry(entry)?;
        if let Some(Rejection::WrongAccount { what, claimed }) = self.other_account(&batch) {
            return Err(Error::decode(
                "a WhatsApp Cloud API webhook",
                format!("it names {what} `{claimed}`, not one configured"),
            ));
        }
        Ok(vec![PlatformEvent::Unrecognized {
            topic: entry.topic.clone().unwrap_or_else(|| TOPIC_OTHER.into()),
        }])
    }

    fn max_body_bytes(&self) -> usize {
        self.verifier.body_limit()
    }
}

#[cfg(test)]
mod tests {
    use super::form_pairs;

    #[test]
    fn form_decoding() {
        assert_eq!(
            form_pairs(b"hub.mode=subscribe&hub.verify_token=a+b%21&x&hub.challenge=%zz1"),
            vec![
                ("hub.mode".to_owned(), "subscribe".to_owned()),
                ("hub.verify_token".to_owned(), "a b!".to_owned()),
                ("x".to_owned(), String::new()),
                ("hub.challenge".to_owned(), "%zz1".to_owned()),
            ]
        );
        assert_eq!(form_pairs(b"a=%4"), vec![("a".to_owned(), "%4".to_owned())]);
    }
}
