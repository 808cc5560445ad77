use crate::channel::SendError;
use crate::webhook::Rejection;

/// A boxed error from a lower layer (a database driver, an HTTP client).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error type of the `aftercare` crate and of the traits adapters implement.
///
/// Each variant says what failed and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A storage operation failed. Retrying later may help if the database was unreachable.
    #[error("storage failed while trying to {operation}: {source}; check that the database is reachable and writable")]
    Storage {
        /// What was being done (`insert into inbox`).
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// A shop platform's API refused or failed a call.
    #[error("the shop platform failed while trying to {operation}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Platform {
        /// What was being done (`fetch order 42`).
        operation: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// The platform's own error text.
        message: String,
        /// Whether trying again later may succeed (throttling, 5xx, network).
        retryable: bool,
    },
    /// A webhook was refused by verification.
    #[error("webhook rejected: {0}")]
    Rejected(#[from] Rejection),
    /// A message could not be sent.
    #[error("message not sent: {0}")]
    Send(#[from] SendError),
    /// Stored or received data could not be decoded.
    #[error("could not decode {what}: {message}")]
    Decode {
        /// What was being decoded (`shopify orders/fulfilled`).
        what: String,
        /// Why.
        message: String,
    },
    /// Configuration is missing or wrong.
    #[error("configuration error: {0}")]
    Config(String),
    /// Something looked up does not exist.
    #[error("{what} `{id}` was not found")]
    NotFound {
        /// The kind of thing (`order`).
        what: &'static str,
        /// Its id.
        id: String,
    },
}

impl Error {
    /// A storage error from any driver error.
    pub fn storage(operation: &'static str, source: impl Into<BoxError>) -> Self {
        Error::Storage {
            operation,
            source: source.into(),
        }
    }

    /// A decode error.
    pub fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// Whether retrying the same operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Storage { .. } => true,
            Error::Platform { retryable, .. } => *retryable,
            Error::Send(e) => matches!(e, SendError::Transient { .. }),
            _ => false,
        }
    }
}
