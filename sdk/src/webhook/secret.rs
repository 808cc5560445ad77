use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// A signing secret. Its bytes never appear in `Debug` or `Display` output.
///
/// ```
/// use aftercare::webhook::Secret;
/// let s = Secret::from("shpss_very_secret");
/// assert_eq!(format!("{s:?}"), "Secret(***)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret from raw key bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// A Standard Webhooks secret: `whsec_` followed by base64 of the key bytes.
    /// Without the prefix, the whole text is taken as base64.
    pub fn from_standard_webhooks(text: &str) -> Result<Self, SecretError> {
        let b64 = text.strip_prefix("whsec_").unwrap_or(text);
        B64.decode(b64.trim())
            .map(Self)
            .map_err(|_| SecretError::NotBase64)
    }

    /// The key bytes. Handle with care: never log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Whether the key is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// A Standard Webhooks secret must be `whsec_` + base64.
    #[error(
        "the Standard Webhooks secret is not valid base64 after the `whsec_` prefix; copy it again from the sender's settings"
    )]
    NotBase64,
}
