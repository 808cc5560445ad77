/// What went wrong talking to Magento. Converts into [`aftercare::Error`] for the sdk's
/// traits (`Platform { retryable, .. }`, `Decode`, `Config`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MagentoError {
    /// The store answered with an error, or could not be reached.
    #[error("Magento failed while trying to {operation}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        /// What was being done (`fetch order 42`).
        operation: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// Magento's own error text (`message` with its `parameters` filled in), or the
        /// transport's.
        message: String,
        /// Whether trying again later may succeed (5xx, 429 and timeouts after the
        /// client's own retries, network errors).
        retryable: bool,
    },
    /// A response or payload could not be decoded, or is not what it claims to be.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded (`magento observer.sales_order_save_after`).
        what: String,
        /// Why.
        message: String,
    },
    /// The adapter is configured wrongly (a store URL that is not `https`, a public key
    /// that does not parse, no credentials...).
    #[error("Magento adapter configuration error: {0}")]
    Config(String),
}

impl MagentoError {
    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        MagentoError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            MagentoError::Api {
                retryable: true,
                ..
            }
        )
    }
}

impl From<MagentoError> for aftercare::Error {
    fn from(e: MagentoError) -> Self {
        match e {
            MagentoError::Api {
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
            MagentoError::Decode { what, message } => aftercare::Error::Decode { what, message },
            MagentoError::Config(m) => aftercare::Error::Config(m),
        }
    }
}
