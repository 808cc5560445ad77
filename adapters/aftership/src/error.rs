//! The crate's one error type.

use aftercare::tracking_source::SourceError;

/// What went wrong talking to AfterShip.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AfterShipError {
    /// The configuration is unusable (a base URL that does not parse...).
    #[error("AfterShip configuration: {0}")]
    Config(String),
    /// The request could not be sent or its answer read.
    #[error("AfterShip could not be reached: {0}; check the network and the base URL")]
    Http(String),
    /// AfterShip answered with an error.
    #[error("AfterShip answered HTTP {status} (meta code {code}): {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The `meta.code` (4003: tracking already exists; 4290: too many requests).
        code: i64,
        /// The `meta.message`.
        message: String,
    },
}

impl From<AfterShipError> for SourceError {
    fn from(e: AfterShipError) -> Self {
        match e {
            AfterShipError::Api { status: 429, .. } => SourceError::Quota {
                retry_after: None,
                message: e.to_string(),
            },
            AfterShipError::Api { status, .. } if status >= 500 => SourceError::Transient {
                retry_after: None,
                message: e.to_string(),
            },
            AfterShipError::Http(_) => SourceError::Transient {
                retry_after: None,
                message: e.to_string(),
            },
            other => SourceError::Permanent(other.to_string()),
        }
    }
}
