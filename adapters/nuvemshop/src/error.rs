/// What went wrong talking to Nuvemshop / Tiendanube. Converts into [`aftercare::Error`] for
/// the sdk's traits (`Platform { retryable, .. }`, `Decode`, `Config`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NuvemshopError {
    /// The API answered with an error, or could not be reached.
    #[error("Nuvemshop failed while trying to {operation}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        /// What was being done (`GET /orders/450789469`).
        operation: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// The API's own error text.
        message: String,
        /// Whether trying again later may succeed (429, 5xx, network errors, and `402` of a
        /// suspended store: paused, not failed).
        retryable: bool,
    },
    /// A response or a webhook body could not be decoded.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded (`nuvemshop order/created`).
        what: String,
        /// Why.
        message: String,
    },
    /// The adapter is configured wrongly (store id, base URL, token, User-Agent).
    #[error("Nuvemshop adapter configuration error: {0}")]
    Config(String),
}

impl NuvemshopError {
    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        NuvemshopError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            NuvemshopError::Api {
                retryable: true,
                ..
            }
        )
    }

    /// The HTTP status the API answered, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            NuvemshopError::Api { status, .. } => *status,
            _ => None,
        }
    }
}

impl From<NuvemshopError> for aftercare::Error {
    fn from(e: NuvemshopError) -> Self {
        match e {
            NuvemshopError::Api {
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
            NuvemshopError::Decode { what, message } => aftercare::Error::Decode { what, message },
            NuvemshopError::Config(m) => aftercare::Error::Config(m),
        }
    }
}
