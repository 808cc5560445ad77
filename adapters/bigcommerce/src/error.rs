/// What went wrong talking to BigCommerce. Converts into [`aftercare::Error`] for the sdk's
/// traits (`Platform { retryable, .. }`, `Decode`, `Config`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BigCommerceError {
    /// BigCommerce answered with an error, or could not be reached.
    #[error("BigCommerce failed while trying to {operation}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        /// What was being done (`GET /v2/orders/250`).
        operation: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// BigCommerce's own error text.
        message: String,
        /// Whether trying again later may succeed (429, 5xx and network errors after the
        /// client's own retries).
        retryable: bool,
    },
    /// A response or a webhook body could not be decoded.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded (`bigcommerce store/order/created`).
        what: String,
        /// Why.
        message: String,
    },
    /// The adapter is configured wrongly (bad store hash, bad base URL, token).
    #[error("BigCommerce adapter configuration error: {0}")]
    Config(String),
    /// An install or app callback was refused (forged, expired, another app's or store's).
    #[error("BigCommerce app callback refused: {0}")]
    Install(#[from] crate::install::InstallRejection),
    /// The shop registry failed during an install or uninstall.
    #[error("the shop registry failed: {0}")]
    Store(#[source] aftercare::Error),
}

impl BigCommerceError {
    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        BigCommerceError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BigCommerceError::Api {
                retryable: true,
                ..
            }
        )
    }

    /// The HTTP status BigCommerce answered, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            BigCommerceError::Api { status, .. } => *status,
            _ => None,
        }
    }
}

impl From<BigCommerceError> for aftercare::Error {
    fn from(e: BigCommerceError) -> Self {
        match e {
            BigCommerceError::Api {
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
            BigCommerceError::Decode { what, message } => {
                aftercare::Error::Decode { what, message }
            }
            BigCommerceError::Config(m) => aftercare::Error::Config(m),
            BigCommerceError::Install(r) => aftercare::Error::Config(r.to_string()),
            BigCommerceError::Store(e) => e,
        }
    }
}
