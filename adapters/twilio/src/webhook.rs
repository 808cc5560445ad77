//! Twilio's webhooks: incoming messages and status callbacks.
//!
//! [`TwilioWebhook`] implements [`WebhookSource`]: it checks `X-Twilio-Signature` against the
//! public URL configured in Twilio (the sdk's router does not pass the request URL, so the
//! source is told it), so verified requests go to the inbox. Its `decode` yields
//! [`PlatformEvent::Unrecognized`] with topic `twilio/inbound` or `twilio/status` (messaging
//! is not a platform event); the typed decoders [`parse_inbound`] and [`parse_status`] turn
//! the stored body into an [`InboundMessage`] or a [`DeliveryStatus`].
//!
//! Parameters follow `https://www.twilio.com/docs/messaging/guides/webhook-request` (incoming)
//! and `https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks`
//! (status callbacks).

use aftercare::Error;
use aftercare::model::{ChannelKind, DeliveryStatus, InboundMessage, PlatformEvent};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Secret, VerifiedWebhook, WebhookRequest, WebhookSource, body_hash_key,
};
use chrono::{DateTime, Utc};

use crate::signature::{SIGNATURE_HEADER, url_with_body_hash, validate_form, validate_json};

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

    /// Whether this is a status callback (it has a `MessageStatus` other than `received`)
    /// rather than an incoming message.
    pub fn is_status_callback(&self) -> bool {
        self.non_empty("MessageStatus")
            .is_some_and(|s| s != "received" && s != "receiving")
    }

    /// The de-duplication key: `MessageSid` for an incoming message, `MessageSid:status`
    /// for a status callback.
    pub fn dedupe_key(&self) -> Option<String> {
        let sid = self
            .non_empty("MessageSid")
            .or_else(|| self.non_empty("SmsSid"))?;
        Some(if self.is_status_callback() {
            format!("{sid}:{}", self.get("MessageStatus").unwrap_or_default())
        } else {
            sid.to_owned()
        })
    }
}

fn required<'f>(form: &'f TwilioForm, name: &'static str) -> Result<&'f str, Error> {
    form.non_empty(name)
        .ok_or_else(|| Error::decode("a Twilio webhook", format!("it has no `{name}` parameter")))
}

fn strip_whatsapp(a: &str) -> (&str, bool) {
    match a.strip_prefix("whatsapp:") {
        Some(rest) => (rest, true),
        None => (a, false),
    }
}

/// Decodes an incoming message (SMS or WhatsApp) into an [`InboundMessage`].
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
    let sid = form
        .non_empty("MessageSid")
        .or_else(|| form.non_empty("SmsSid"))
        .ok_or_else(|| {
            Error::decode(
                "a Twilio incoming message",
                "it has no `MessageSid` parameter",
            )
        })?;
    let (from, wa) = strip_whatsapp(required(form, "From")?);
    let (to, _) = strip_whatsapp(form.get("To").unwrap_or_default());
    let text = form
        .non_empty("Body")
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
/// `queued`/`accepted`/`scheduled`/`sending` → `Queued`, `sent` → `Sent`, `delivered` →
/// `Delivered`, `read` → `Read`, `failed`/`undelivered` → `Failed` with `ErrorCode`;
/// anything else (`partially_delivered`, `canceled`, new values) is kept raw as `Unknown`.
///
/// ```
/// use aftercare_twilio::webhook::{TwilioForm, parse_status};
/// use aftercare::model::DeliveryStatus;
/// let form = TwilioForm::parse(b"MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003");
/// assert_eq!(parse_status(&form).unwrap(), ("SM1".to_owned(), DeliveryStatus::Failed { code: Some("30003".into()) }));
/// ```
pub fn parse_status(form: &TwilioForm) -> Result<(String, DeliveryStatus), Error> {
    let sid = form
        .non_empty("MessageSid")
        .or_else(|| form.non_empty("SmsSid"))
        .ok_or_else(|| {
            Error::decode(
                "a Twilio status callback",
                "it has no `MessageSid` parameter",
            )
        })?;
    let status = form
        .non_empty("MessageStatus")
        .or_else(|| form.non_empty("SmsStatus"))
        .ok_or_else(|| {
            Error::decode(
                "a Twilio status callback",
                "it has no `MessageStatus` parameter",
            )
        })?;
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
/// in Twilio for this endpoint.
///
/// - Form bodies: the URL plus every POST parameter (with and without the default port).
/// - JSON bodies (`Content-Type: application/json`): the URL with `bodySHA256=<hex>` added
///   to its query, plus the body hash.
///
/// Give the URL exactly as entered in the Twilio console or as `StatusCallback`, query
/// string included.
///
/// ```
/// use aftercare::webhook::{RawHeaders, WebhookRequest, WebhookSource};
/// use aftercare_twilio::webhook::TwilioWebhook;
/// let url = "https://shop.example/webhooks/twilio";
/// let src = TwilioWebhook::new("auth_token", url);
/// let body = b"MessageSid=SM1&MessageStatus=delivered";
/// let headers = RawHeaders::from_pairs([("X-Twilio-Signature", src.sign(body))]);
/// let req = WebhookRequest { headers: &headers, body, received_at: chrono::Utc::now() };
/// assert_eq!(src.verify(&req).unwrap().dedupe_key, "SM1:delivered");
/// ```
#[derive(Clone)]
pub struct TwilioWebhook {
    auth_token: Secret,
    url: String,
}

impl std::fmt::Debug for TwilioWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioWebhook")
            .field("auth_token", &self.auth_token)
            .field("url", &self.url)
            .finish()
    }
}

impl TwilioWebhook {
    /// A source for requests Twilio sends to `url`, signed with the account's Auth Token.
    pub fn new(auth_token: impl Into<Secret>, url: impl Into<String>) -> Self {
        Self {
            auth_token: auth_token.into(),
            url: url.into(),
        }
    }

    /// The URL signatures are checked against.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The signature Twilio would send with this form body (for tests).
    pub fn sign(&self, form_body: &[u8]) -> String {
        let form = TwilioForm::parse(form_body);
        crate::signature::sign(self.auth_token.expose(), &self.url, form.pairs())
    }

    /// The signature Twilio would send with this JSON body (for tests).
    pub fn sign_json(&self, body: &[u8]) -> String {
        let no_params: [(&str, &str); 0] = [];
        crate::signature::sign(
            self.auth_token.expose(),
            &url_with_body_hash(&self.url, body),
            &no_params,
        )
    }
}

fn is_json(req: &WebhookRequest<'_>) -> bool {
    req.headers.get_str("Content-Type").is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    })
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
        if is_json(request) {
            validate_json(
                &self.auth_token,
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
        validate_form(&self.auth_token, &self.url, form.pairs(), signature)?;
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

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let topic = match entry.topic.as_deref() {
            Some(t) => t.to_owned(),
            None => {
                if TwilioForm::parse(&entry.body).is_status_callback() {
                    TOPIC_STATUS.to_owned()
                } else {
                    TOPIC_INBOUND.to_owned()
                }
            }
        };
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

/// Decodes a stored Twilio webhook (from the inbox) into a [`TwilioEvent`].
pub fn decode_entry(entry: &InboxEntry) -> Result<TwilioEvent, Error> {
    let form = TwilioForm::parse(&entry.body);
    let status = match entry.topic.as_deref() {
        Some(TOPIC_STATUS) => true,
        Some(TOPIC_INBOUND) => false,
        _ => form.is_status_callback(),
    };
    if status {
        let (sid, status) = parse_status(&form)?;
        Ok(TwilioEvent::Status { sid, status })
    } else {
        parse_inbound(&form, entry.received_at).map(TwilioEvent::Inbound)
    }
}
