//! The store's base URL: what the adapter is bound to, compared as a URL.

use std::fmt;

use url::Url;

use crate::error::MagentoError;

/// A Magento store's base URL (*Stores → Configuration → General → Web → Base URLs*),
/// normalised: scheme and host in lower case, no default port, the path ending in `/`,
/// no query or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreUrl(Url);

impl StoreUrl {
    /// Parses a base URL (`https://shop.example/`, `https://example.com/store/`).
    pub fn parse(text: &str) -> Result<Self, MagentoError> {
        let mut url = Url::parse(text.trim()).map_err(|e| {
            MagentoError::Config(format!("the store URL `{text}` is not a URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(MagentoError::Config(format!(
                "the store URL `{text}` is not an http(s) URL"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(MagentoError::Config(
                "the store URL must not carry credentials".into(),
            ));
        }
        url.set_query(None);
        url.set_fragment(None);
        if !url.path().ends_with('/') {
            let p = format!("{}/", url.path());
            url.set_path(&p);
        }
        Ok(Self(url))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// Whether `other` names the same store.
    pub fn matches(&self, other: &str) -> bool {
        StoreUrl::parse(other).is_ok_and(|o| o == *self)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_normalised() {
        let s = StoreUrl::parse("HTTPS://Shop.Example:443/store").unwrap();
        assert_eq!(s.as_str(), "https://shop.example/store/");
        assert!(s.matches("https://shop.example/store/?x=1"));
        assert!(!s.matches("https://shop.example/"));
        assert!(StoreUrl::parse("ftp://shop.example/").is_err());
        assert!(StoreUrl::parse("https://u:p@shop.example/").is_err());
    }
}
