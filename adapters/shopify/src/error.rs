/// What went wrong talking to Shopify. Converts into [`aftercare::Error`] for the sdk's traits
/// (`Platform { retryable, .. }`, `Decode`, `Config`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShopifyError {
    /// Shopify answered with an error, or could not be reached.
    #[error("Shopify failed while trying to {operation}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Api {
        /// What was being done (`fetch order 450789469`).
        operation: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// Shopify's own error text.
        message: String,
        /// Whether trying again later may succeed (5xx after retries, network).
        retryable: bool,
    },
    /// A GraphQL mutation ran but Shopify refused its input (`userErrors`).
    #[error("Shopify refused to {operation}: {}", messages.join("; "))]
    UserErrors {
        /// What was being done.
        operation: String,
        /// Shopify's messages, one per user error (`field: message`).
        messages: Vec<String>,
    },
    /// A response or payload could not be decoded.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Why.
        message: String,
    },
    /// The OAuth callback failed verification.
    #[error("OAuth callback rejected: {0}")]
    OAuth(#[from] crate::oauth::OAuthRejection),
    /// The client is configured wrongly (bad shop domain, bad base URL).
    #[error("Shopify adapter configuration error: {0}")]
    Config(String),
    /// Recording the shop (install, uninstall, erasure) failed in the store.
    #[error("could not record the shop: {0}")]
    Store(#[source] aftercare::Error),
}

impl ShopifyError {
    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ShopifyError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ShopifyError::Api {
                retryable: true,
                ..
            }
        )
    }
}

impl From<ShopifyError> for aftercare::Error {
    fn from(e: ShopifyError) -> Self {
        match e {
            ShopifyError::Api {
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
            ShopifyError::UserErrors {
                operation,
                messages,
            } => aftercare::Error::Platform {
                operation,
                status: Some(200),
                message: messages.join("; "),
                retryable: false,
            },
            ShopifyError::Decode { what, message } => aftercare::Error::Decode { what, message },
            ShopifyError::OAuth(r) => aftercare::Error::Config(r.to_string()),
            ShopifyError::Config(m) => aftercare::Error::Config(m),
            ShopifyError::Store(e) => e,
        }
    }
}
