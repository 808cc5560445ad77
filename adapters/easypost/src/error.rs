//! The crate's one error type.

use aftercare::tracking_source::SourceError;

/// What went wrong talking to EasyPost.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EasyPostError {
    /// The configuration is unusable.
    #[error("EasyPost configuration: {0}")]
    Config(String),
    /// EasyPost answered with an error.
    #[error("EasyPost answered HTTP {status} ({code}): {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// `error.code`.
        code: String,
        /// `error.message`.
        message: String,
    },
}

impl From<EasyPostError> for SourceError {
    fn from(e: EasyPostError) -> Self {
        SourceError::Permanent(e.to_string())
    }
}
