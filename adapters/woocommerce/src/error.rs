/// What went wrong talking to WooCommerce. Converts into [`aftercare::Error`] for the sdk's
/// traits (`Platform { retryable, .. }`, `Decode`, `Config`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WooError {
    /// The site answered with an error, or could not be reached.
    #[error("WooCommerce failed while trying to {operation}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        /// What was being done (`fetch order 727`).
        operation: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// WooCommerce's own error text (`code: message`), or the transport's.
        message: String,
        /// Whether trying again later may succeed (5xx, 429 and timeouts after the
        /// client's own retries, network errors).
        retryable: bool,
    },
    /// A response or payload could not be decoded, or is not what it claims to be.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded (`woocommerce order.updated`).
        what: String,
        /// Why.
        message: String,
    },
    /// The adapter is configured wrongly (a site that is not an `https` URL, an empty
    /// webhook secret...).
    #[error("WooCommerce adapter configuration error: {0}")]
    Config(String),
}

impl WooError {
    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        WooError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            WooError::Api {
                retryable: true,
                ..
            }
        )
    }
}

impl From<WooError> for aftercare::Error {
    fn from(e: WooError) -> Self {
        match e {
            WooError::Api {
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
            WooError::Decode { what, message } => aftercare::Error::Decode { what, message },
            WooError::Config(m) => aftercare::Error::Config(m),
        }
    }
}
