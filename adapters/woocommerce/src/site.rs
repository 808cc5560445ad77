//! The site a WooCommerce store is: its home URL, compared as a URL.

use url::Url;

use crate::error::WooError;

/// A WooCommerce site, identified by its home URL (`home_url('/')`, what WooCommerce sends
/// in `X-WC-Webhook-Source`), normalised: scheme and host lower-cased, the default port
/// dropped, the path ending in `/`, no query or fragment.
///
/// Two spellings of one URL are the same site; another scheme, host, port or path is
/// another site.
///
/// ```
/// use aftercare_woocommerce::Site;
/// let site = Site::parse("https://Shop.Example").unwrap();
/// assert_eq!(site.as_str(), "https://shop.example/");
/// assert!(site.matches("https://shop.example:443/"));
/// assert!(!site.matches("http://shop.example/"));
/// assert!(!site.matches("https://shop.example.evil.test/"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    url: Url,
    text: String,
}

impl Site {
    /// Parses a site URL (`https://shop.example`, `https://example.com/store/`).
    pub fn parse(text: &str) -> Result<Self, WooError> {
        let url = normalise(text).ok_or_else(|| {
            WooError::Config(format!(
                "`{text}` is not a site URL; give the store's home URL, e.g. `https://shop.example/`"
            ))
        })?;
        let text = url.as_str().to_owned();
        Ok(Self { url, text })
    }

    /// The normalised URL as text (also the `ShopId` of this site's events).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The normalised URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Whether `other` (a header's or a body's URL) names this site.
    pub fn matches(&self, other: &str) -> bool {
        normalise(other).is_some_and(|u| u == self.url)
    }

    /// Whether `href` (a body's `_links.self[].href`) is a URL of this site: same scheme,
    /// host and port, and a path under the site's.
    pub fn contains(&self, href: &str) -> bool {
        let Ok(u) = Url::parse(href.trim()) else {
            return false;
        };
        u.scheme() == self.url.scheme()
            && u.host_str().map(str::to_ascii_lowercase).as_deref() == self.url.host_str()
            && u.port_or_known_default() == self.url.port_or_known_default()
            && u.path().starts_with(self.url.path())
    }
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn normalise(text: &str) -> Option<Url> {
    let mut u = Url::parse(text.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return None;
    }
    if !u.username().is_empty() || u.password().is_some() {
        return None;
    }
    u.set_query(None);
    u.set_fragment(None);
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    Some(u)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_site_match_and_others_do_not() {
        let s = Site::parse("https://example.com/store").unwrap();
        assert_eq!(s.as_str(), "https://example.com/store/");
        for same in [
            "https://EXAMPLE.com/store/",
            "https://example.com:443/store",
            " https://example.com/store/ ",
        ] {
            assert!(s.matches(same), "{same}");
        }
        for other in [
            "http://example.com/store/",
            "https://example.com/",
            "https://example.com:8443/store/",
            "https://example.com/store/other/",
            "https://example.org/store/",
            "example.com/store",
            "",
        ] {
            assert!(!s.matches(other), "{other}");
        }
        assert!(s.contains("https://example.com/store/wp-json/wc/v3/orders/727"));
        assert!(!s.contains("https://example.com/other/wp-json/wc/v3/orders/727"));
        assert!(!s.contains("https://evil.test/store/wp-json/wc/v3/orders/727"));
        assert!(Site::parse("ftp://example.com").is_err());
        assert!(Site::parse("https://user:pw@example.com").is_err());
    }
}
