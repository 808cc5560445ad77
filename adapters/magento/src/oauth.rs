//! OAuth 1.0a request signing (RFC 5849 §3), as Magento checks it for integrations: the
//! consumer key and secret and the access token and secret of *System → Extensions →
//! Integrations*, `oauth_signature_method` HMAC-SHA256 (Magento also accepts HMAC-SHA1,
//! which RFC 5849's own examples use), the parameters in an `Authorization: OAuth` header.
//!
//! Since Magento 2.4.4 an integration's access token is refused as a bearer token unless the
//! store turns on *Allow OAuth Access Tokens to be used as standalone Bearer tokens*
//! (`oauth/consumer/enable_integration_as_bearer`); signing every request works on every
//! version (developer.adobe.com/commerce/webapi/get-started/authentication/gs-authentication-oauth/).

use std::fmt;

use aftercare::webhook::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use url::Url;

/// How the signature is computed (`oauth_signature_method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureMethod {
    /// `HMAC-SHA256` (Magento's recommendation; the default).
    #[default]
    HmacSha256,
    /// `HMAC-SHA1` (RFC 5849 §3.4.2).
    HmacSha1,
}

impl SignatureMethod {
    /// The value of `oauth_signature_method`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha256 => "HMAC-SHA256",
            SignatureMethod::HmacSha1 => "HMAC-SHA1",
        }
    }
}

/// An integration's four credentials. `Debug` shows none of them.
#[derive(Clone)]
pub struct OAuth1 {
    consumer_key: Secret,
    consumer_secret: Secret,
    token: Secret,
    token_secret: Secret,
    method: SignatureMethod,
}

impl fmt::Debug for OAuth1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth1")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// RFC 3986 percent-encoding as RFC 5849 §3.6 wants it: every byte but `ALPHA`, `DIGIT`,
/// `-`, `.`, `_` and `~` as `%XX` in upper case.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push_str(&format!("{b:02X}"));
        }
    }
    out
}

/// The base string URI (RFC 5849 §3.4.1.2): scheme and host in lower case, the port only
/// when it is not the scheme's default, the path, no query or fragment.
pub fn base_string_uri(url: &Url) -> String {
    let scheme = url.scheme().to_ascii_lowercase();
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = match (url.port(), scheme.as_str()) {
        (Some(80), "http") | (Some(443), "https") | (None, _) => String::new(),
        (Some(p), _) => format!(":{p}"),
    };
    let path = if url.path().is_empty() {
        "/"
    } else {
        url.path()
    };
    format!("{scheme}://{host}{port}{path}")
}

/// The signature base string (RFC 5849 §3.4.1): the method, the base string URI and the
/// normalized parameters — the URL's query, `oauth` (the protocol parameters, without
/// `realm` and `oauth_signature`) and `form` (an `application/x-www-form-urlencoded`
/// body's; Magento's JSON bodies are not signed) — each encoded, sorted by name then value,
/// and joined.
pub fn signature_base_string(
    method: &str,
    url: &Url,
    oauth: &[(String, String)],
    form: &[(String, String)],
) -> String {
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (percent_encode(&k), percent_encode(&v)))
        .chain(
            oauth
                .iter()
                .filter(|(k, _)| k != "realm" && k != "oauth_signature")
                .chain(form)
                .map(|(k, v)| (percent_encode(k), percent_encode(v))),
        )
        .collect();
    params.sort();
    let normalized = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(&base_string_uri(url)),
        percent_encode(&normalized)
    )
}

/// The base64 HMAC of `message` (HMAC takes keys of any length, so the key never fails).
fn mac_b64<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &str) -> String {
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message.as_bytes());
            B64.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn text(s: &Secret) -> String {
    String::from_utf8_lossy(s.expose()).into_owned()
}

impl OAuth1 {
    /// An integration's consumer key and secret and access token and secret, signing with
    /// HMAC-SHA256.
    pub fn new(
        consumer_key: impl Into<Secret>,
        consumer_secret: impl Into<Secret>,
        access_token: impl Into<Secret>,
        access_token_secret: impl Into<Secret>,
    ) -> Self {
        Self {
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            token: access_token.into(),
            token_secret: access_token_secret.into(),
            method: SignatureMethod::default(),
        }
    }

    /// Signs with another method.
    pub fn method(mut self, method: SignatureMethod) -> Self {
        self.method = method;
        self
    }

    /// Whether every credential is set.
    pub(crate) fn is_complete(&self) -> bool {
        !(self.consumer_key.is_empty()
            || self.consumer_secret.is_empty()
            || self.token.is_empty()
            || self.token_secret.is_empty())
    }

    /// The protocol parameters of one request (RFC 5849 §3.1), without the signature.
    pub fn protocol_params(&self, nonce: &str, timestamp: i64) -> Vec<(String, String)> {
        vec![
            ("oauth_consumer_key".into(), text(&self.consumer_key)),
            ("oauth_token".into(), text(&self.token)),
            ("oauth_signature_method".into(), self.method.as_str().into()),
            ("oauth_timestamp".into(), timestamp.to_string()),
            ("oauth_nonce".into(), nonce.into()),
            ("oauth_version".into(), "1.0".into()),
        ]
    }

    /// The signature (RFC 5849 §3.4.2): the base64 HMAC of `base_string` keyed with the
    /// encoded consumer secret, `&`, and the encoded token secret.
    pub fn signature(&self, base_string: &str) -> String {
        let key = format!(
            "{}&{}",
            percent_encode(&text(&self.consumer_secret)),
            percent_encode(&text(&self.token_secret))
        );
        match self.method {
            SignatureMethod::HmacSha256 => {
                mac_b64::<Hmac<sha2::Sha256>>(key.as_bytes(), base_string)
            }
            SignatureMethod::HmacSha1 => mac_b64::<Hmac<sha1::Sha1>>(key.as_bytes(), base_string),
        }
    }

    /// The `Authorization` header of a request with the given protocol parameters
    /// (RFC 5849 §3.5.1): `OAuth ` and each parameter, with the signature, as
    /// `name="value"` encoded, separated by `, `.
    pub fn authorization_with(
        &self,
        method: &str,
        url: &Url,
        params: Vec<(String, String)>,
        realm: Option<&str>,
    ) -> String {
        let base = signature_base_string(method, url, &params, &[]);
        let signature = self.signature(&base);
        let mut parts = Vec::with_capacity(params.len() + 2);
        if let Some(r) = realm {
            parts.push(format!("realm=\"{}\"", percent_encode(r)));
        }
        for (k, v) in params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("oauth_signature", signature.as_str())])
        {
            parts.push(format!("{}=\"{}\"", percent_encode(k), percent_encode(v)));
        }
        format!("OAuth {}", parts.join(", "))
    }

    /// The `Authorization` header of a request, with a fresh nonce and the current time.
    pub fn authorization(&self, method: &str, url: &Url) -> String {
        let nonce: [u8; 16] = rand::random();
        let params = self.protocol_params(&hex::encode(nonce), chrono::Utc::now().timestamp());
        self.authorization_with(method, url, params, None)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_stay_and_the_rest_is_upper_case_hex() {
        assert_eq!(percent_encode("Aa0-._~"), "Aa0-._~");
        assert_eq!(percent_encode("a b+c/é"), "a%20b%2Bc%2F%C3%A9");
    }

    #[test]
    fn debug_shows_no_credential() {
        let o = OAuth1::new("ck-visible?", "cs-visible?", "at-visible?", "ts-visible?");
        let dbg = format!("{o:?}");
        assert!(!dbg.contains("visible"), "{dbg}");
    }

    #[test]
    fn default_ports_are_left_out() {
        let u: Url = "HTTPS://Shop.Example:443/rest/V1/orders?x=1"
            .parse()
            .unwrap();
        assert_eq!(base_string_uri(&u), "https://shop.example/rest/V1/orders");
        let u: Url = "http://shop.example:8080/rest".parse().unwrap();
        assert_eq!(base_string_uri(&u), "http://shop.example:8080/rest");
    }
}
