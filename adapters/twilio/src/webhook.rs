//! Twilio's webhooks: incoming messages and status callbacks.
//!
//! [`TwilioWebhook`] implements [`WebhookSource`]: it checks `X-Twilio-Signature` against the
//! public URL configured in Twilio (the sdk's router does not pass the request URL, so the
//! source is told it), and the `AccountSid` against the configured account, so verified
//! requests of this account go to the inbox. Its `decode` checks that the stored body is the
//! kind its topic says — a status callback has `MessageSid` and `MessageStatus`, an incoming
//! message `MessageSid`, `From`, `To` and `Body` — and yields [`PlatformEvent::Unrecognized`]
//! with topic `twilio/inbound` or `twilio/status` (messaging is not a platform event); a body
//! that is not is an [`Error::Decode`], which dead-letters it with the reason. The typed
//! decoders [`parse_inbound`] and [`parse_status`] turn the stored body into an
//! [`InboundMessage`] or a [`DeliveryStatus`].
//!
//! Parameters follow `https://www.twilio.com/docs/messaging/guides/webhook-request` (incoming:
//! `MessageSid`, `AccountSid`, `From`, `To`, `Body` are always sent, `Body` empty for a
//! message with media only) and
//! `https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks`
//! (status callbacks: `MessageSid`, `MessageStatus`, `AccountSid`, `From`, `To`, and
//! `ErrorCode` on failures).

use aftercare::Error;
use aftercare::model::{ChannelKind, DeliveryStatus, InboundMessage, PlatformEvent};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Secret, VerifiedWebhook, WebhookRequest, WebhookSource, body_hash_key,
};
use chrono::{DateTime, Utc};

use crate::signature::{
    Algorithm, SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, SignatureSettings, url_with_body_hash,
    validate_form_with, validate_json_with,
};

/// Topic of an incoming message.
pub const TOPIC_INBOUND: &str = "twilio/inbound";
/// Topic of a status callback.
pub const TOPIC_STATUS: &str = "twilio/status";
/// Topic of a signed JSON request (other Twilio products).
pub const TOPIC_JSON: &str = "twilio/json";

/// A decoded `application/x-www-form-urlencoded` body: every parameter, in order, repeated
/// names kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TwilioForm(Vec<(String, String)>);

impl TwilioForm {
    /// Decodes a form body.
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A form from pairs.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        )
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of a parameter.
    fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Every parameter.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The status it reports: `MessageStatus`, or the older `SmsStatus`.
    fn status(&self) -> Option<&str> {
        self.non_empty("MessageStatus")
            .or_else(|| self.non_empty("SmsStatus"))
    }

    /// Whether this claims to be a status callback (a `MessageStatus`, or the older
    /// `SmsStatus`, other than `received`) rather than an incoming message. What it claims
    /// is checked when it is decoded: a status callback without `MessageStatus` does not
    /// decode.
    pub fn is_status_callback(&self) -> bool {
        self.status()
            .is_some_and(|s| s != "received" && s != "receiving")
    }

    /// The de-duplication key: `MessageSid` for an incoming message, `MessageSid:status`
    /// for a status callback.
    pub fn dedupe_key(&self) -> Option<String> {
        let sid = self
            .non_empty("MessageSid")
            .or_else(|| self.non_empty("SmsSid"))?;
        Some(if self.is_status_callback() {
            format!("{sid}:{}", self.status().unwrap_or_default())
        } else {
            sid.to_owned()
        })
    }
}

fn required<'f>(
    form: &'f TwilioForm,
    what: &'static str,
    name: &'static str,
) -> Result<&'f str, Error> {
    form.non_empty(name)
        .ok_or_else(|| Error::decode(what, format!("it has no `{name}` parameter")))
}

const INBOUND: &str = "a Twilio incoming message";
const STATUS: &str = "a Twilio status callback";

fn strip_whatsapp(a: &str) -> (&str, bool) {
    match a.strip_prefix("whatsapp:") {
        Some(rest) => (rest, true),
        None => (a, false),
    }
}

/// Decodes an incoming message (SMS or WhatsApp) into an [`InboundMessage`].
///
/// `MessageSid`, `From` and `To` must be there and not empty, and `Body` must be there (it
/// is empty for a message with media only): Twilio always sends them, so a body without them
/// is not an incoming message, and is an [`Error::Decode`].
///
/// `From`/`To` lose their `whatsapp:` prefix (the channel says WhatsApp instead); the text is
/// `Body`, or `ButtonText` when a button was tapped without text; `ButtonPayload` becomes
/// `button_payload`; `OriginalRepliedMessageSid` becomes `in_reply_to`. Twilio sends no time,
/// so `received_at` is the arrival time.
///
/// ```
/// use aftercare_twilio::webhook::{TwilioForm, parse_inbound};
/// let form = TwilioForm::parse(b"MessageSid=SM1&From=whatsapp%3A%2B14155550100&To=whatsapp%3A%2B14155238886&Body=STOP&NumMedia=0");
/// let m = parse_inbound(&form, chrono::Utc::now()).unwrap();
/// assert_eq!(m.from, "+14155550100");
/// assert_eq!(m.channel, aftercare::model::ChannelKind::Whatsapp);
/// ```
pub fn parse_inbound(
    form: &TwilioForm,
    received_at: DateTime<Utc>,
) -> Result<InboundMessage, Error> {
    let sid = required(form, INBOUND, "MessageSid")?;
    let (from, wa) = strip_whatsapp(required(form, INBOUND, "From")?);
    let (to, _) = strip_whatsapp(required(form, INBOUND, "To")?);
    let body = form
        .get("Body")
        .ok_or_else(|| Error::decode(INBOUND, "it has no `Body` parameter"))?;
    let text = Some(body)
        .filter(|b| !b.is_empty())
        .or_else(|| form.non_empty("ButtonText"))
        .unwrap_or_default();
    let channel = if wa {
        ChannelKind::Whatsapp
    } else {
        ChannelKind::Sms
    };
    crate::inbound_message(
        channel,
        from,
        to,
        text,
        form.non_empty("ButtonPayload"),
        Some(sid),
        form.non_empty("OriginalRepliedMessageSid"),
        received_at,
    )
}

/// Decodes a status callback into the message's SID and its [`DeliveryStatus`].
///
/// `MessageSid` and `MessageStatus` must be there and not empty (the older `SmsSid` and
/// `SmsStatus` alone are not enough): otherwise it is an [`Error::Decode`], never a guessed
/// status.
///
/// `queued`/`accepted`/`scheduled`/`sending` → `Queued`, `sent` → `Sent`, `delivered` →
/// `Delivered`, `read` → `Read`, `failed`/`undelivered` → `Failed` with `ErrorCode`;
/// anything else (`partially_delivered`, `canceled`, new values) is kept raw as `Unknown`.
///
/// ```
/// use aftercare_twilio::webhook::{TwilioForm, parse_status};
/// use aftercare::model::DeliveryStatus;
/// let form = TwilioForm::parse(b"MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003");
/// assert_eq!(parse_status(&form).unwrap(), ("SM1".to_owned(), DeliveryStatus::Failed { code: Some("30003".into()) }));
/// assert!(parse_status(&TwilioForm::parse(b"MessageSid=SM1&SmsStatus=delivered")).is_err());
/// ```
pub fn parse_status(form: &TwilioForm) -> Result<(String, DeliveryStatus), Error> {
    let sid = required(form, STATUS, "MessageSid")?;
    let status = required(form, STATUS, "MessageStatus")?;
    let ds = match status {
        "queued" | "accepted" | "scheduled" | "sending" => DeliveryStatus::Queued,
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" | "undelivered" => DeliveryStatus::Failed {
            code: form.non_empty("ErrorCode").map(str::to_owned),
        },
        other => DeliveryStatus::Unknown(other.to_owned()),
    };
    Ok((sid.to_owned(), ds))
}

/// Twilio as a [`WebhookSource`]: verifies `X-Twilio-Signature` against the URL configured
/// in Twilio for this endpoint, and that the request is of the configured account.
///
/// - Form bodies: the URL plus every POST parameter (with and without the default port, the
///   scheme and host also lower-cased).
/// - JSON bodies (`Content-Type: application/json`): the URL with `bodySHA256=<hex>` added
///   to its query, plus the body hash.
///
/// Give the URL exactly as entered in the Twilio console or as `StatusCallback`, query
/// string included.
///
/// **Which signature is checked.** Without [`SIGNATURE_SETTINGS_HEADER`], HMAC-SHA1 with the
/// Auth Token. With it (a Webhooks Rule signs this URL with a SharedKey), the algorithm it
/// names (`HMAC_SHA256`, or `HMAC_SHA1`) with the SharedKeys given to
/// [`TwilioWebhook::shared_key`]; the Auth Token is then not tried, and without a shared key
/// configured the request is refused (`mismatch`, with a warning in the log). During a
/// migration both kinds are accepted; [`TwilioWebhook::require_shared_key`] ends it, after
/// which a request without the header is refused (`missing_header`). An unknown algorithm is
/// refused (`bad_encoding`), never guessed. The header is outside the signature, so naming a
/// key can only choose which of the configured secrets the request must be signed with.
///
/// **The account.** With [`TwilioWebhook::account_sid`], a form body's `AccountSid` must be
/// that account: a validly signed request of another account (a SharedKey or Auth Token
/// shared between accounts, a webhook meant for another installation) is refused with
/// [`Rejection::WrongAccount`] (403) and not stored; a stored one (from before the setting)
/// does not decode. Without it the `AccountSid` is not checked: set it.
///
/// ```
/// use aftercare::webhook::{RawHeaders, Rejection, WebhookRequest, WebhookSource};
/// use aftercare_twilio::webhook::TwilioWebhook;
/// let url = "https://shop.example/webhooks/twilio";
/// let src = TwilioWebhook::new("auth_token", url).account_sid("AC1");
/// let body = b"MessageSid=SM1&MessageStatus=delivered&AccountSid=AC1";
/// let headers = RawHeaders::from_pairs([("X-Twilio-Signature", src.sign(body))]);
/// let req = WebhookRequest::new(&headers, body, chrono::Utc::now());
/// assert_eq!(src.verify(&req).unwrap().dedupe_key, "SM1:delivered");
///
/// let other = b"MessageSid=SM1&MessageStatus=delivered&AccountSid=AC2";
/// let headers = RawHeaders::from_pairs([("X-Twilio-Signature", src.sign(other))]);
/// let req = WebhookRequest::new(&headers, other, chrono::Utc::now());
/// assert_eq!(src.verify(&req), Err(Rejection::WrongAccount { what: "account", claimed: "AC2".into() }));
/// ```
#[derive(Clone)]
pub struct TwilioWebhook {
    auth_token: Secret,
    url: String,
    shared_keys: Vec<Secret>,
    auth_token_accepted: bool,
    account_sid: Option<String>,
}

impl std::fmt::Debug for TwilioWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioWebhook")
            .field("auth_token", &self.auth_token)
            .field("url", &self.url)
            .field("shared_keys", &self.shared_keys)
            .field("auth_token_accepted", &self.auth_token_accepted)
            .field("account_sid", &self.account_sid)
            .finish()
    }
}

impl TwilioWebhook {
    /// A source for requests Twilio sends to `url`, signed with the account's Auth Token.
    pub fn new(auth_token: impl Into<Secret>, url: impl Into<String>) -> Self {
        Self {
            auth_token: auth_token.into(),
            url: url.into(),
            shared_keys: Vec::new(),
            auth_token_accepted: true,
            account_sid: None,
        }
    }

    /// Takes only webhooks of this account: a form body's `AccountSid` must equal `sid`
    /// (`AC...`), or the request is refused with [`Rejection::WrongAccount`].
    pub fn account_sid(mut self, sid: impl Into<String>) -> Self {
        self.account_sid = Some(sid.into());
        self
    }

    /// Also accepts webhooks signed with a SharedKey (its secret), announced by
    /// [`SIGNATURE_SETTINGS_HEADER`]. Call it again for each key accepted during a key
    /// rotation; the Auth Token stays accepted for requests without the header until
    /// [`TwilioWebhook::require_shared_key`].
    pub fn shared_key(mut self, secret: impl Into<Secret>) -> Self {
        self.shared_keys.push(secret.into());
        self
    }

    /// Ends a migration to SharedKeys: a request without [`SIGNATURE_SETTINGS_HEADER`]
    /// (signed with the Auth Token) is refused.
    pub fn require_shared_key(mut self) -> Self {
        self.auth_token_accepted = false;
        self
    }

    /// The URL signatures are checked against.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The signature Twilio would send with this form body, signed with the Auth Token (for
    /// tests).
    pub fn sign(&self, form_body: &[u8]) -> String {
        let form = TwilioForm::parse(form_body);
        crate::signature::sign(self.auth_token.expose(), &self.url, form.pairs())
    }

    /// The signature Twilio would send with this JSON body, signed with the Auth Token (for
    /// tests).
    pub fn sign_json(&self, body: &[u8]) -> String {
        let no_params: [(&str, &str); 0] = [];
        crate::signature::sign(
            self.auth_token.expose(),
            &url_with_body_hash(&self.url, body),
            &no_params,
        )
    }

    /// The algorithm and keys a request is checked with, from its
    /// [`SIGNATURE_SETTINGS_HEADER`].
    fn keys_for(
        &self,
        request: &WebhookRequest<'_>,
    ) -> Result<(Algorithm, Vec<&Secret>), Rejection> {
        let settings = match request.headers.get(SIGNATURE_SETTINGS_HEADER) {
            None => None,
            Some(v) if v.iter().all(u8::is_ascii_whitespace) => None,
            Some(v) => Some(std::str::from_utf8(v).map_err(|_| Rejection::BadEncoding {
                header: SIGNATURE_SETTINGS_HEADER.into(),
                expected: "ASCII text",
            })?),
        };
        match settings {
            Some(value) => {
                let settings = SignatureSettings::parse(value)?;
                if self.shared_keys.is_empty() {
                    tracing::warn!(
                        shared_key = settings.key.as_deref().unwrap_or_default(),
                        algorithm = settings.algorithm.as_str(),
                        "a Twilio webhook is signed with a SharedKey, but no shared key is configured for this source; refused"
                    );
                    return Err(Rejection::Mismatch);
                }
                Ok((settings.algorithm, self.shared_keys.iter().collect()))
            }
            None if !self.auth_token_accepted => Err(Rejection::MissingHeader {
                header: SIGNATURE_SETTINGS_HEADER.into(),
            }),
            None => Ok((Algorithm::HmacSha1, vec![&self.auth_token])),
        }
    }

    /// The `AccountSid` of a form body, when it is not the configured account.
    fn other_account<'f>(&self, form: &'f TwilioForm) -> Option<&'f str> {
        let want = self.account_sid.as_deref()?;
        let claimed = form.get("AccountSid").unwrap_or_default();
        (claimed != want).then_some(claimed)
    }
}

fn is_json(req: &WebhookRequest<'_>) -> bool {
    req.headers.get_str("Content-Type").is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    })
}

/// The topic a stored entry claims, or the one its body suggests when it has none.
fn topic_of(entry: &InboxEntry) -> String {
    match entry.topic.as_deref() {
        Some(t) => t.to_owned(),
        None => {
            if TwilioForm::parse(&entry.body).is_status_callback() {
                TOPIC_STATUS.to_owned()
            } else {
                TOPIC_INBOUND.to_owned()
            }
        }
    }
}

impl WebhookSource for TwilioWebhook {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.max_body_bytes() {
            return Err(Rejection::TooLarge {
                limit: self.max_body_bytes(),
                size: request.body.len(),
            });
        }
        let signature = request
            .headers
            .get_str(SIGNATURE_HEADER)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Rejection::MissingHeader {
                header: SIGNATURE_HEADER.into(),
            })?;
        let (algorithm, keys) = self.keys_for(request)?;
        if is_json(request) {
            validate_json_with(
                algorithm,
                &keys,
                &url_with_body_hash(&self.url, request.body),
                request.body,
                signature,
            )?;
            let mut v = VerifiedWebhook::new(body_hash_key(request.body));
            v.topic = Some(TOPIC_JSON.into());
            return Ok(v);
        }
        // The parameters are part of what is signed, so they are read before the check;
        // nothing else is interpreted until it passes.
        let form = TwilioForm::parse(request.body);
        validate_form_with(algorithm, &keys, &self.url, form.pairs(), signature)?;
        if let Some(claimed) = self.other_account(&form) {
            return Err(Rejection::WrongAccount {
                what: "account",
                claimed: claimed.to_owned(),
            });
        }
        let key = form
            .dedupe_key()
            .unwrap_or_else(|| body_hash_key(request.body));
        let mut v = VerifiedWebhook::new(key);
        v.topic = Some(
            if form.is_status_callback() {
                TOPIC_STATUS
            } else {
                TOPIC_INBOUND
            }
            .into(),
        );
        if let Some(acc) = form.non_empty("AccountSid") {
            v.meta.insert("account_sid".into(), acc.to_owned());
        }
        Ok(v)
    }

    /// Checks that the stored body is what its topic says (see [`decode_entry`]) and of the
    /// configured account, then yields [`PlatformEvent::Unrecognized`] with the topic. A
    /// signed JSON request (`twilio/json`, other Twilio products) is not read.
    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let topic = topic_of(entry);
        if topic == TOPIC_INBOUND || topic == TOPIC_STATUS {
            let form = TwilioForm::parse(&entry.body);
            if let Some(claimed) = self.other_account(&form) {
                return Err(Error::decode(
                    "a Twilio webhook",
                    format!("it is of account `{claimed}`, not the one configured"),
                ));
            }
            decode_entry(entry)?;
        }
        Ok(vec![PlatformEvent::Unrecognized { topic }])
    }

    fn max_body_bytes(&self) -> usize {
        // Twilio's form bodies are small (Body is at most 1600 characters).
        64 * 1024
    }

    /// Twilio reads the answer to an incoming message as TwiML: an empty `<Response/>`
    /// acknowledges without replying (replies go out through the outbox).
    fn acknowledgement(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "text/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
        ))
    }
}

/// What a stored Twilio webhook holds, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TwilioEvent {
    /// A message from a customer.
    Inbound(InboundMessage),
    /// A delivery report for a message we sent: its SID and status.
    Status {
        /// The message's SID.
        sid: String,
        /// The status reported.
        status: DeliveryStatus,
    },
}

/// Decodes a stored Twilio webhook (from the inbox) into a [`TwilioEvent`], as the kind its
/// topic says (or, without a topic, its body suggests): a body that is not that kind is an
/// [`Error::Decode`] ([`parse_status`], [`parse_inbound`]), never an empty event. A signed
/// JSON request (`twilio/json`) is not a messaging webhook and does not decode.
pub fn decode_entry(entry: &InboxEntry) -> Result<TwilioEvent, Error> {
    let form = TwilioForm::parse(&entry.body);
    match topic_of(entry).as_str() {
        TOPIC_STATUS => {
            let (sid, status) = parse_status(&form)?;
            Ok(TwilioEvent::Status { sid, status })
        }
        TOPIC_INBOUND => parse_inbound(&form, entry.received_at).map(TwilioEvent::Inbound),
        other => Err(Error::decode(
            "a Twilio webhook",
            format!("its topic `{other}` is not a messaging webhook"),
        )),
    }
}
