//! `X-Twilio-Signature`: an HMAC over the full URL and the sorted POST parameters.
//!
//! The algorithm follows Twilio's helper libraries (twilio-python
//! `twilio/request_validator.py`, twilio-node `src/webhooks/webhooks.ts`):
//!
//! 1. Start from the full URL exactly as configured in Twilio (scheme, host, optional port,
//!    path and query).
//! 2. Append every POST parameter sorted by name as `name` + `value`, no separators; a
//!    repeated name contributes its sorted, de-duplicated values.
//! 3. HMAC of that string, base64: HMAC-SHA1 keyed with the Auth Token by default, or, when
//!    a Webhooks Rule applies a Setting with a SharedKey, the Setting's algorithm (HMAC-SHA256)
//!    keyed with the SharedKey's secret. Twilio then adds
//!    `X-Twilio-Webhooks-Signature-Settings: key=<SharedKey>,algorithm=HMAC_SHA256`
//!    ([`SIGNATURE_SETTINGS_HEADER`], read by [`SignatureSettings::parse`]); only the hash
//!    changes (`https://www.twilio.com/docs/usage/webhooks/webhook-shared-keys`, twilio-node
//!    `examples/WebhookSignatureValidation.md`).
//!
//! Twilio's own signing is not consistent about the default port, so the validators accept
//! the URL with the default port (`:443` for https, `:80` otherwise) and without any port;
//! twilio-node also retries with the query string re-encoded the way Node's legacy
//! `querystring` did (so `'` and `%27` are equivalent), and it parses the URL with `new URL()`,
//! which lower-cases the scheme and the host: a URL configured as `HTTPS://Shop.Example/x` is
//! also tried as `https://shop.example/x`. This module does the same, and nothing more: the
//! path and the query are compared byte for byte (apart from that legacy re-encoding), and
//! any other port, host or query is refused.
//!
//! For JSON bodies, Twilio adds `bodySHA256=<hex sha256 of the body>` to the URL and signs
//! the URL alone; [`validate_json`] checks both the signature and the body hash.

use aftercare::webhook::{Rejection, Secret};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

/// The header carrying Twilio's signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The header Twilio adds when a webhook is signed with a SharedKey instead of the Auth
/// Token: `key=<SharedKey>,algorithm=HMAC_SHA256`.
pub const SIGNATURE_SETTINGS_HEADER: &str = "X-Twilio-Webhooks-Signature-Settings";

/// The HMAC a signature is made with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA1: the Auth Token's signatures, and Settings naming `HMAC_SHA1`.
    #[default]
    HmacSha1,
    /// HMAC-SHA256: Settings naming `HMAC_SHA256`.
    HmacSha256,
}

impl Algorithm {
    /// The name Twilio uses in [`SIGNATURE_SETTINGS_HEADER`] (`HMAC_SHA1`, `HMAC_SHA256`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "HMAC_SHA1",
            Algorithm::HmacSha256 => "HMAC_SHA256",
        }
    }
}

/// What [`SIGNATURE_SETTINGS_HEADER`] announces: the SharedKey's name (not its secret) and
/// the algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureSettings {
    /// The `key` entry: which SharedKey signed, as Twilio names it; `None` when absent.
    pub key: Option<String>,
    /// The `algorithm` entry.
    pub algorithm: Algorithm,
}

impl SignatureSettings {
    /// Reads the header's value: comma-separated `name=value` entries, `algorithm`
    /// required and either `HMAC_SHA256` or `HMAC_SHA1` (in any case); other entries are
    /// ignored. An algorithm missing or unknown is refused (twilio-node refuses the request
    /// too), never guessed.
    ///
    /// ```
    /// use aftercare_twilio::signature::{Algorithm, SignatureSettings};
    /// let s = SignatureSettings::parse("key=KS123,algorithm=HMAC_SHA256").unwrap();
    /// assert_eq!((s.key.as_deref(), s.algorithm), (Some("KS123"), Algorithm::HmacSha256));
    /// assert!(SignatureSettings::parse("key=KS123,algorithm=HMAC_MD5").is_err());
    /// ```
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        let bad = || Rejection::BadEncoding {
            header: SIGNATURE_SETTINGS_HEADER.into(),
            expected: "`key=<SharedKey>,algorithm=HMAC_SHA256` (or HMAC_SHA1)",
        };
        let (mut key, mut algorithm) = (None, None);
        for entry in value.split(',') {
            let Some((name, v)) = entry.split_once('=') else {
                continue;
            };
            let (name, v) = (name.trim(), v.trim());
            if name.eq_ignore_ascii_case("key") && !v.is_empty() {
                key = Some(v.to_owned());
            } else if name.eq_ignore_ascii_case("algorithm") {
                algorithm = Some(if v.eq_ignore_ascii_case("HMAC_SHA256") {
                    Algorithm::HmacSha256
                } else if v.eq_ignore_ascii_case("HMAC_SHA1") {
                    Algorithm::HmacSha1
                } else {
                    return Err(bad());
                });
            }
        }
        Ok(Self {
            key,
            algorithm: algorithm.ok_or_else(bad)?,
        })
    }
}

/// The string Twilio signs: the URL, then each parameter name followed by its value, names
/// sorted, repeated names with their values sorted and de-duplicated.
fn signing_string<N: AsRef<str>, V: AsRef<str>>(url: &str, params: &[(N, V)]) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_ref()))
        .collect();
    // Sorting the pairs sorts by name, then by value; dedup removes repeated values of a
    // repeated name, exactly `sorted(set(values))` per name.
    pairs.sort_unstable();
    pairs.dedup();
    let mut s = Vec::with_capacity(url.len() + pairs.len() * 24);
    s.extend_from_slice(url.as_bytes());
    for (n, v) in pairs {
        s.extend_from_slice(n.as_bytes());
        s.extend_from_slice(v.as_bytes());
    }
    s
}

/// The MAC over `data` with `algorithm`. HMAC accepts keys of any length, so this is never
/// empty in practice.
fn mac(algorithm: Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        match <M as hmac::digest::KeyInit>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match algorithm {
        Algorithm::HmacSha1 => run::<Hmac<Sha1>>(key, data),
        Algorithm::HmacSha256 => run::<Hmac<Sha256>>(key, data),
    }
}

/// Whether `sig` is the MAC over `data`, compared in constant time (`Mac::verify_slice`).
fn verify(algorithm: Algorithm, key: &[u8], data: &[u8], sig: &[u8]) -> bool {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8], sig: &[u8]) -> bool {
        match <M as hmac::digest::KeyInit>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(data);
                m.verify_slice(sig).is_ok()
            }
            Err(_) => false,
        }
    }
    match algorithm {
        Algorithm::HmacSha1 => run::<Hmac<Sha1>>(key, data, sig),
        Algorithm::HmacSha256 => run::<Hmac<Sha256>>(key, data, sig),
    }
}

/// Computes the `X-Twilio-Signature` value Twilio would send for a form-encoded request to
/// `url` with `params`, signed with the Auth Token (HMAC-SHA1). For tests and for signing
/// requests to your own endpoints.
///
/// ```
/// // The vector from twilio-python's tests/unit/test_request_validator.py.
/// let params = [
///     ("CallSid", "CA1234567890ABCDE"),
///     ("Caller", "+14158675309"),
///     ("Digits", "1234"),
///     ("From", "+14158675309"),
///     ("To", "+18005551212"),
/// ];
/// let sig = aftercare_twilio::signature::sign(b"12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params);
/// assert_eq!(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
/// ```
pub fn sign<N: AsRef<str>, V: AsRef<str>>(
    auth_token: &[u8],
    url: &str,
    params: &[(N, V)],
) -> String {
    sign_with(Algorithm::HmacSha1, auth_token, url, params)
}

/// [`sign`] with another algorithm and key: a SharedKey's secret with the algorithm of its
/// Webhook Setting.
pub fn sign_with<N: AsRef<str>, V: AsRef<str>>(
    algorithm: Algorithm,
    key: &[u8],
    url: &str,
    params: &[(N, V)],
) -> String {
    B64.encode(mac(algorithm, key, &signing_string(url, params)))
}

/// Lowercase hex SHA-256 of a body, the value of the `bodySHA256` query parameter.
pub fn body_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Appends `bodySHA256=<hex sha256(body)>` to `url`, as Twilio does for JSON bodies.
pub fn url_with_body_hash(url: &str, body: &[u8]) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}bodySHA256={}", body_sha256(body))
}

/// Validates a form-encoded request signed with the Auth Token (HMAC-SHA1): `signature` is
/// the `X-Twilio-Signature` value, `url` the full URL Twilio requested (as configured in
/// Twilio), `params` every POST parameter received (not a fixed list: Twilio adds parameters
/// without notice).
///
/// Each candidate URL form is compared in constant time.
pub fn validate_form<N: AsRef<str>, V: AsRef<str>>(
    auth_token: &Secret,
    url: &str,
    params: &[(N, V)],
    signature: &str,
) -> Result<(), Rejection> {
    validate_form_with(Algorithm::HmacSha1, &[auth_token], url, params, signature)
}

/// [`validate_form`] with an algorithm and any of several keys (SharedKeys during a
/// rotation). Every key and URL form is computed and compared, whatever the earlier ones
/// gave.
pub fn validate_form_with<N: AsRef<str>, V: AsRef<str>>(
    algorithm: Algorithm,
    keys: &[&Secret],
    url: &str,
    params: &[(N, V)],
    signature: &str,
) -> Result<(), Rejection> {
    let sig = decode_signature(signature)?;
    let mut ok = false;
    for candidate in url_candidates(url) {
        let data = signing_string(&candidate, params);
        for key in keys {
            ok |= verify(algorithm, key.expose(), &data, &sig);
        }
    }
    if ok { Ok(()) } else { Err(Rejection::Mismatch) }
}

/// Validates a request with a JSON body signed with the Auth Token: the signature over `url`
/// (which must carry the `bodySHA256` query parameter) with no parameters, and the body's
/// SHA-256 against that parameter. A URL without `bodySHA256` is refused, as in twilio-go's
/// `ValidateBody`.
pub fn validate_json(
    auth_token: &Secret,
    url: &str,
    body: &[u8],
    signature: &str,
) -> Result<(), Rejection> {
    validate_json_with(Algorithm::HmacSha1, &[auth_token], url, body, signature)
}

/// [`validate_json`] with an algorithm and any of several keys. The body hash is SHA-256
/// whatever the algorithm.
pub fn validate_json_with(
    algorithm: Algorithm,
    keys: &[&Secret],
    url: &str,
    body: &[u8],
    signature: &str,
) -> Result<(), Rejection> {
    let claimed = query_param(url, "bodySHA256").ok_or(Rejection::Mismatch)?;
    let expected = body_sha256(body);
    let body_ok = claimed.len() == expected.len()
        && claimed
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a.to_ascii_lowercase() ^ b))
            == 0;
    let no_params: [(&str, &str); 0] = [];
    let sig_ok = validate_form_with(algorithm, keys, url, &no_params, signature).is_ok();
    if body_ok && sig_ok {
        Ok(())
    } else {
        Err(Rejection::Mismatch)
    }
}

fn decode_signature(signature: &str) -> Result<Vec<u8>, Rejection> {
    let s = signature.trim();
    if s.is_empty() {
        return Err(Rejection::MissingHeader {
            header: SIGNATURE_HEADER.into(),
        });
    }
    B64.decode(s).map_err(|_| Rejection::BadEncoding {
        header: SIGNATURE_HEADER.into(),
        expected: "base64",
    })
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    let q = q.split('#').next().unwrap_or(q);
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The parts of a URL around its port: `scheme://[userinfo@]host`, the port if any, and the
/// rest (path, query, fragment).
struct Split<'a> {
    scheme: &'a str,
    before_port: &'a str,
    port: Option<&'a str>,
    rest: &'a str,
}

fn split(url: &str) -> Option<Split<'_>> {
    let (scheme, after) = url.split_once("://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host = &authority[host_start..];
    // An IPv6 literal's colons are inside brackets.
    let search_from = host.rfind(']').unwrap_or(0);
    let colon = host[search_from..].rfind(':').map(|i| i + search_from);
    let prefix_len = scheme.len() + 3;
    match colon {
        Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            let port_at = prefix_len + host_start + i;
            Some(Split {
                scheme,
                before_port: &url[..port_at],
                port: Some(&host[i + 1..]).filter(|p| !p.is_empty()),
                rest,
            })
        }
        _ => Some(Split {
            scheme,
            before_port: &url[..prefix_len + authority.len()],
            port: None,
            rest,
        }),
    }
}

/// The URL with its scheme and host lower-cased (userinfo, port, path, query and fragment
/// kept byte for byte), as `new URL()` gives it to twilio-node; `None` when that changes
/// nothing or the URL has no `://`.
fn lowercase_scheme_and_host(url: &str) -> Option<String> {
    let (scheme, after) = url.split_once("://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let (userinfo, host) = authority.split_at(host_start);
    let lowered = format!(
        "{}://{userinfo}{}{rest}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    );
    (lowered != url).then_some(lowered)
}

/// The URL forms a signature is accepted for: the URL as configured and with its scheme and
/// host lower-cased; each without any port and with the default port when none is given
/// (kept as is when one is); all again with the query re-encoded the legacy way.
/// De-duplicated.
pub(crate) fn url_candidates(url: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(8);
    let bases = std::iter::once(url.to_owned()).chain(lowercase_scheme_and_host(url));
    for base in bases {
        let port_forms = match split(&base) {
            Some(s) => {
                let without = format!("{}{}", s.before_port, s.rest);
                let with = match s.port {
                    Some(p) => format!("{}:{p}{}", s.before_port, s.rest),
                    None => {
                        let default = if s.scheme.eq_ignore_ascii_case("https") {
                            443
                        } else {
                            80
                        };
                        format!("{}:{default}{}", s.before_port, s.rest)
                    }
                };
                vec![without, with]
            }
            None => vec![base.clone()],
        };
        for f in port_forms {
            let legacy = legacy_query(&f);
            for c in [Some(f), legacy].into_iter().flatten() {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// The URL with its query decoded as a form and re-encoded with `encodeURIComponent`'s
/// rules (unreserved: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`), as twilio-node's
/// `withLegacyQuerystring` does. `None` when there is no query.
fn legacy_query(url: &str) -> Option<String> {
    let (base, rest) = url.split_once('?')?;
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    if query.is_empty() {
        return None;
    }
    let encoded: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| format!("{}={}", encode_uri_component(&k), encode_uri_component(&v)))
        .collect();
    let mut s = format!("{base}?{}", encoded.join("&"));
    if let Some(f) = fragment {
        s.push('#');
        s.push_str(f);
    }
    Some(s)
}

fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_cover_both_port_forms() {
        assert_eq!(
            url_candidates("https://a.example/x"),
            vec![
                "https://a.example/x".to_owned(),
                "https://a.example:443/x".to_owned()
            ]
        );
        assert_eq!(
            url_candidates("http://u:p@a.example:8080/x"),
            vec![
                "http://u:p@a.example/x".to_owned(),
                "http://u:p@a.example:8080/x".to_owned()
            ]
        );
        assert_eq!(
            url_candidates("https://[::1]:8443/x"),
            vec![
                "https://[::1]/x".to_owned(),
                "https://[::1]:8443/x".to_owned()
            ]
        );
        assert_eq!(
            url_candidates("https://a.example?q=it's"),
            vec![
                "https://a.example?q=it's".to_owned(),
                "https://a.example:443?q=it's".to_owned()
            ]
        );
        assert!(
            url_candidates("https://a.example/?q=it%27s")
                .contains(&"https://a.example/?q=it's".to_owned())
        );
    }

    #[test]
    fn candidates_lower_case_scheme_and_host_only() {
        let c = url_candidates("HTTPS://User:PW@Shop.Example/Hooks/T?Q=A");
        assert_eq!(
            c,
            vec![
                "HTTPS://User:PW@Shop.Example/Hooks/T?Q=A".to_owned(),
                "HTTPS://User:PW@Shop.Example:443/Hooks/T?Q=A".to_owned(),
                "https://User:PW@shop.example/Hooks/T?Q=A".to_owned(),
                "https://User:PW@shop.example:443/Hooks/T?Q=A".to_owned(),
            ]
        );
        // Already lower-case: nothing added.
        assert_eq!(url_candidates("https://a.example/x").len(), 2);
    }
}
