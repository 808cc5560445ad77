/// What went wrong talking to ikas. Converts into [`aftercare::Error`] for
/// the sdk's traits (`Platform { retryable, .. }`, `Decode`, `Config`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IkasError {
    /// The API answered with an error, or could not be reached.
    #[error("ikas failed while trying to {operation}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        /// What was being done (`listOrder`).
        operation: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// The API's own error text.
        message: String,
        /// Whether trying again later may succeed (429, 5xx, network errors).
        retryable: bool,
    },
    /// A response or a webhook body could not be decoded.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded (`ikas store/order/created`).
        what: String,
        /// Why.
        message: String,
    },
    /// The adapter is configured wrongly (store name, URLs, credentials).
    #[error("ikas adapter configuration error: {0}")]
    Config(String),
}

impl IkasError {
    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        IkasError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            IkasError::Api {
                retryable: true,
                ..
            }
        )
    }

    /// The HTTP status the API answered, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            IkasError::Api { status, .. } => *status,
            _ => None,
        }
    }
}

impl From<IkasError> for aftercare::Error {
    fn from(e: IkasError) -> Self {
        match e {
            IkasError::Api {
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
            IkasError::Decode { what, message } => aftercare::Error::Decode { what, message },
            IkasError::Config(m) => aftercare::Error::Config(m),
        }
    }
}
