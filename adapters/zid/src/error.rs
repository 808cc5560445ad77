/// What went wrong talking to Zid. Converts into [`aftercare::Error`] for the sdk's traits
/// (`Platform { retryable, .. }`, `Decode`, `Config`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZidError {
    /// The API answered with an error, or could not be reached.
    #[error("Zid failed while trying to {operation}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        /// What was being done (`fetch order 42`).
        operation: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// Zid's own error text, or the transport's.
        message: String,
        /// Whether trying again later may succeed (5xx, 429, timeouts, network).
        retryable: bool,
    },
    /// A payload could not be decoded, or is not what it claims to be.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded (`zid order`).
        what: String,
        /// Why.
        message: String,
    },
    /// The adapter is configured wrongly.
    #[error("Zid adapter configuration error: {0}")]
    Config(String),
}

impl ZidError {
    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ZidError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }
}

impl From<ZidError> for aftercare::Error {
    fn from(e: ZidError) -> Self {
        match e {
            ZidError::Api {
                operation,
                status,
                message,
                retryable,
            } => aftercare::Error::Platform {
                operation,
                status,
                message,
                retryable,
            },
            ZidError::Decode { what, message } => aftercare::Error::Decode { what, message },
            ZidError::Config(m) => aftercare::Error::Config(m),
        }
    }
}
