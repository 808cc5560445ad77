//! The crate's one error type.

/// What went wrong with Shippo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShippoError {
    /// The configuration is unusable.
    #[error("Shippo configuration: {0}")]
    Config(String),
}
