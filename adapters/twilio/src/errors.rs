//! How Twilio's answers and transport failures map to [`SendError`].
//!
//! Twilio's REST errors carry a JSON body `{"code": 21211, "message": "...", "more_info":
//! "https://www.twilio.com/docs/errors/21211", "status": 400}`. The mapping, from the error
//! pages at `https://www.twilio.com/docs/api/errors/<code>`:
//!
//! | Code | Meaning | Mapped to |
//! |---|---|---|
//! | 21610 | recipient unsubscribed (replied STOP) | `Permanent { opted_out: true }` |
//! | 21211 | invalid `To` number | `Permanent` |
//! | 21606 / 21608 / 21612 / 21614 / 21635 | `From` not capable, `To` unverified, unroutable, not SMS-capable, landline | `Permanent` |
//! | 20003 | authentication failed | `Permanent` (fix the credentials) |
//! | 63016 | WhatsApp outside the 24-hour window | `TemplateRequired` |
//! | 20429 (HTTP 429) | too many concurrent requests | `Transient`, after `Retry-After` |
//! | 21611 / 63017 | queue over 10 h / account over its messages per second | `Transient` (60 s) |
//! | 63038 | account daily limit | `Transient` (1 h) |
//! | any other code, HTTP 5xx | server side | `Transient` |
//! | any other code, HTTP 4xx | the request is wrong | `Permanent` |
//!
//! Transport: a failure to connect (`reqwest::Error::is_connect`) happened before anything
//! was sent and is `Transient`; a timeout or a connection dropped after the request was
//! written may have reached Twilio and is `MaybeSent`.

use std::time::Duration;

use aftercare::channel::SendError;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Twilio's JSON error body.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct TwilioApiError {
    /// Twilio's error code (`21211`).
    #[serde(default)]
    pub code: Option<u32>,
    /// What Twilio says went wrong.
    #[serde(default)]
    pub message: Option<String>,
    /// The error's documentation page.
    #[serde(default)]
    pub more_info: Option<String>,
    /// The HTTP status, repeated.
    #[serde(default)]
    pub status: Option<u16>,
}

/// Parses a `Retry-After` value: delay seconds, or an HTTP date relative to `now`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Classifies an unsuccessful HTTP answer from Twilio's Messages API.
///
/// ```
/// use aftercare::channel::SendError;
/// let body = br#"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}"#;
/// let e = aftercare_twilio::errors::classify(400, None, body);
/// assert!(matches!(e, SendError::Permanent { opted_out: true, .. }));
/// ```
pub fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> SendError {
    let err: TwilioApiError = serde_json::from_slice(body).unwrap_or_default();
    let reason = match (&err.message, &err.more_info) {
        (Some(m), Some(info)) => format!("Twilio said: {m} ({info})"),
        (Some(m), None) => format!("Twilio said: {m}"),
        _ => format!("Twilio answered HTTP {status}"),
    };
    let code = err.code.map(|c| c.to_string());
    match err.code {
        Some(21610) => SendError::Permanent {
            code,
            reason,
            opted_out: true,
        },
        Some(63016) => SendError::TemplateRequired { reason },
        Some(20429) => SendError::transient(retry_after, reason),
        Some(21211 | 21606 | 21608 | 21612 | 21614 | 21635) => SendError::Permanent {
            code,
            reason,
            opted_out: false,
        },
        Some(20003) => SendError::Permanent {
            code,
            reason: format!("{reason}; check the Account SID / API key and secret"),
            opted_out: false,
        },
        Some(21611 | 63017) => {
            SendError::transient(Some(retry_after.unwrap_or(Duration::from_secs(60))), reason)
        }
        Some(63038) => SendError::transient(
            Some(retry_after.unwrap_or(Duration::from_secs(60 * 60))),
            reason,
        ),
        _ if status == 429 => SendError::transient(retry_after, reason),
        _ if status >= 500 => SendError::transient(retry_after, reason),
        _ if (400..500).contains(&status) => SendError::Permanent {
            code,
            reason,
            opted_out: false,
        },
        // 1xx/3xx: not an answer the Messages API gives; safe to try again.
        _ => SendError::transient(retry_after, reason),
    }
}

/// Classifies a transport failure: refused or failed connections were never sent
/// (`Transient`); anything after the connection was made may have been (`MaybeSent`).
pub fn classify_transport(e: &reqwest::Error) -> SendError {
    if e.is_connect() {
        SendError::transient(None, format!("could not connect to Twilio: {e}"))
    } else if e.is_builder() {
        SendError::permanent(
            None,
            format!("the request to Twilio could not be built: {e}"),
        )
    } else if e.is_timeout() {
        SendError::MaybeSent {
            reason: format!("timed out waiting for Twilio after sending the request: {e}"),
        }
    } else {
        SendError::MaybeSent {
            reason: format!("the connection to Twilio failed after the request was sent: {e}"),
        }
    }
}
