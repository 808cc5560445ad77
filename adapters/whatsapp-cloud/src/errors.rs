//! How Graph API answers and transport failures map to [`SendError`].
//!
//! Error bodies have the Graph API shape `{"error": {"message", "type", "code",
//! "error_data": {"messaging_product", "details"}, "error_subcode", "fbtrace_id"}}`
//! (`https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes`).
//! The table of the facts file (§2.6, from the YCloud guide and reproductions of Meta's table,
//! not checked against Meta's page itself), and what each code maps to:
//!
//! | Code | Meaning | SDK action | Mapped to |
//! |---|---|---|---|
//! | 130429 | Throughput rate limit hit; maps to HTTP 429 | back off | `Transient`, 1 s unless `Retry-After` |
//! | 131056 | Pair rate limit (business → same consumer) | slow down per recipient | `Transient`, 6 s |
//! | 131047 | Re-engagement message: more than 24 h since the user last replied | send a template | `TemplateRequired` |
//! | 131026 | Message undeliverable: not a WhatsApp number, outdated client, terms not accepted, or blocked | fall back to SMS/email | `Permanent` |
//! | 131048 | Spam rate limit (too many blocks or reports) | pause; check quality | `Transient`, 1 h |
//! | 131049 | Meta chose not to deliver (per-user limit on marketing templates) | retry much later | `Transient`, 24 h |
//! | 131050 | User stopped marketing messages from this business | treat as opt-out for marketing | `Permanent` (not a full opt-out: see below) |
//! | 131000 | Something went wrong | retry | `Transient` |
//! | 131008 / 131009 | Required parameter missing / parameter value invalid | bug | `Permanent` |
//! | 132001 | Template does not exist (name or language) | configuration | `Permanent` |
//! | 368 | Temporarily blocked for policy violations | stop | `Permanent` |
//! | 100 | Invalid parameter | bug | `Permanent` |
//! | 190 | Access token expired | refresh credentials | `Permanent` |
//! | 1 / 2 | API unknown / service temporarily unavailable | retry | `Transient` |
//!
//! Codes 4 (app-level "API Too Many Calls") and 80007 (WhatsApp Business Account rate limit)
//! are throttling codes of Meta's error page that the facts table does not list; both map to
//! `Transient`, 60 s. Any other code: HTTP 429 and 5xx are `Transient`, other 4xx
//! `Permanent`.
//!
//! 131050 concerns marketing only, while the dispatcher records `opted_out` as a refusal of
//! every purpose, so it is not flagged `opted_out`; record a marketing opt-out from the
//! reason if you want one.
//!
//! Transport: a failure to connect is `Transient`; a timeout or a dropped connection after
//! the request was written is `MaybeSent`.

use std::time::Duration;

use aftercare::channel::SendError;
use serde::Deserialize;

/// The Graph API's error object.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphError {
    /// `(#130429) Rate limit hit`.
    #[serde(default)]
    pub message: Option<String>,
    /// `OAuthException`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The error code to act on.
    #[serde(default)]
    pub code: Option<i64>,
    /// Details.
    #[serde(default)]
    pub error_data: Option<ErrorData>,
    /// Trace id for Meta support.
    #[serde(default)]
    pub fbtrace_id: Option<String>,
}

/// `error_data` of a Graph API error.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorData {
    /// What went wrong, in more words.
    #[serde(default)]
    pub details: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    error: GraphError,
}

fn wait(retry_after: Option<Duration>, default: u64) -> Option<Duration> {
    Some(retry_after.unwrap_or(Duration::from_secs(default)))
}

/// Classifies an unsuccessful answer of `POST /{phone_number_id}/messages`.
///
/// ```
/// use aftercare::channel::SendError;
/// let body = br#"{"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047, "fbtrace_id": "x"}}"#;
/// assert!(matches!(aftercare_whatsapp_cloud::errors::classify(400, None, body), SendError::TemplateRequired { .. }));
/// ```
pub fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> SendError {
    let err = serde_json::from_slice::<Envelope>(body)
        .map(|e| e.error)
        .unwrap_or_default();
    let mut reason = match &err.message {
        Some(m) => format!("Meta said: {m}"),
        None => format!("the Graph API answered HTTP {status}"),
    };
    if let Some(d) = err.error_data.as_ref().and_then(|d| d.details.as_deref()) {
        reason.push_str(&format!(" ({d})"));
    }
    if let Some(t) = &err.fbtrace_id {
        reason.push_str(&format!(" [fbtrace_id {t}]"));
    }
    let code = err.code.map(|c| c.to_string());
    let permanent = |reason: String| SendError::Permanent {
        code: code.clone(),
        reason,
        opted_out: false,
    };
    match err.code {
        Some(131047) => SendError::TemplateRequired { reason },
        Some(130429) => SendError::transient(wait(retry_after, 1), reason),
        Some(131056) => SendError::transient(wait(retry_after, 6), reason),
        Some(131048) => SendError::transient(wait(retry_after, 60 * 60), reason),
        Some(131049) => SendError::transient(wait(retry_after, 24 * 60 * 60), reason),
        Some(4 | 80007) => SendError::transient(wait(retry_after, 60), reason),
        Some(131000 | 1 | 2) => SendError::transient(retry_after, reason),
        Some(131026) => permanent(format!(
            "{reason}; the number may not be on WhatsApp: fall back to SMS or email"
        )),
        Some(190) => permanent(format!("{reason}; refresh the access token")),
        Some(132001) => permanent(format!(
            "{reason}; check the template's name and language in WhatsApp Manager"
        )),
        Some(131050) => permanent(format!(
            "{reason}; the user stopped marketing messages from this business"
        )),
        _ if status == 429 || status >= 500 => SendError::transient(retry_after, reason),
        _ if (400..500).contains(&status) => permanent(reason),
        _ => SendError::transient(retry_after, reason),
    }
}

/// Classifies a transport failure: a failed connection was never sent (`Transient`);
/// anything after the connection was made may have been (`MaybeSent`).
pub fn classify_transport(e: &reqwest::Error) -> SendError {
    if e.is_connect() {
        SendError::transient(None, format!("could not connect to the Graph API: {e}"))
    } else if e.is_builder() {
        SendError::permanent(
            None,
            format!("the request to the Graph API could not be built: {e}"),
        )
    } else if e.is_timeout() {
        SendError::MaybeSent {
            reason: format!("timed out waiting for the Graph API after sending the request: {e}"),
        }
    } else {
        SendError::MaybeSent {
            reason: format!(
                "the connection to the Graph API failed after the request was sent: {e}"
            ),
        }
    }
}

/// Parses a `Retry-After` value given in seconds.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}
