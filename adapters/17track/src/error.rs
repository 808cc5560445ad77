//! The crate's one error type.

/// What went wrong with 17TRACK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeventeenTrackError {
    /// The configuration is unusable.
    #[error("17TRACK configuration: {0}")]
    Config(String),
    /// 17TRACK refused a number or the call (its error code and message).
    #[error("17TRACK refused the request ({code}): {message}")]
    Refused {
        /// The error code (`-18019903`: carrier cannot be detected...).
        code: i64,
        /// Its message.
        message: String,
    },
}
