//! Carrier tracking links: a table of carriers with their public tracking-page URL templates,
//! the spellings platforms use for them, and detection of the carrier from a tracking number.
//!
//! Sources (see `messaging.md` §5 of the project facts): URL templates are the patterns most
//! used in public code (tracking_number_data, Karrio, shop plugins), **not documented by the
//! carriers**; each [`Carrier`] says where its template comes from and how far to trust it.
//! Number formats and check digits follow `jkeen/tracking_number_data` (`couriers/*.json`,
//! `CHECKSUM_ALGORITHMS.md`). Domestic formats of Aramex, SMSA, Kerry, Flash, the Turkish
//! carriers and others are in no dataset: those carriers are found by name only.
//!
//! Detection is a hint. A number that fits several carriers is reported as
//! [`Detection::Ambiguous`] and never guessed; formats without a check digit that collide with
//! many others (DHL eCommerce 14 digits) are not detected at all.
//!
//! ```
//! use aftercare::carrier::{self, Detection, LinkSource};
//!
//! // A UPS number with a valid check digit.
//! let ups = carrier::detect("1Z5R89390357567127");
//! assert!(matches!(ups, Detection::Unique(c) if c.code == "ups"));
//!
//! // The platform's own URL wins; else the named carrier's template; else a unique detection.
//! let link = carrier::tracking_link(None, Some("DHL Express"), "3318810025");
//! assert_eq!(link.source, LinkSource::CarrierTemplate);
//! assert_eq!(
//!     link.url.as_deref(),
//!     Some("https://www.dhl.com/en/express/tracking.html?AWB=3318810025&brand=DHL")
//! );
//! ```
//!
//! One role per file: this file holds the carrier type, look-ups by code and name, and
//! tracking links; `table.rs` the carriers; `detect.rs` detection from a number and its
//! check digits.

/// How far a URL template can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Confidence {
    /// Used by the carrier's own data or many independent codebases.
    High,
    /// Used by several independent codebases; variants exist.
    Medium,
    /// One or two sources, or inconsistent ones: verify before relying on it.
    Low,
}

/// A carrier: its code, display name, the names platforms give it, and its tracking-page URL
/// template (`{n}` is replaced by the URL-encoded tracking number).
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Carrier {
    /// Stable code (`ups`, `thailand_post`).
    pub code: &'static str,
    /// Display name (`Thailand Post`).
    pub name: &'static str,
    /// Other spellings platforms and merchants use (`United Parcel Service`, `Yurtici Kargo`).
    pub aliases: &'static [&'static str],
    /// The tracking-page URL with `{n}` for the number; `None` when no deep link is known.
    pub url_template: Option<&'static str>,
    /// Where the template comes from.
    pub template_source: &'static str,
    /// How far to trust the template.
    pub confidence: Confidence,
    /// ISO country codes whose UPU S10 numbers (`RB123456785GB`) this postal operator issues.
    pub s10_countries: &'static [&'static str],
}

impl Carrier {
    /// The tracking-page URL for a number, or `None` when the carrier has no known deep link.
    /// Whitespace inside the number is removed and the rest is percent-encoded.
    ///
    /// ```
    /// let usps = aftercare::carrier::by_code("usps").unwrap();
    /// assert_eq!(
    ///     usps.url_for("9400 1112 0108 0805 4830 16").as_deref(),
    ///     Some("https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111201080805483016")
    /// );
    /// ```
    pub fn url_for(&self, number: &str) -> Option<String> {
        self.url_template
            .map(|t| fill_template(t, &strip_whitespace(number)))
    }
}

/// Fills `{n}` in a template with the percent-encoded number.
fn fill_template(template: &str, number: &str) -> String {
    template.replace("{n}", &percent_encode(number))
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn strip_whitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

mod detect;
mod table;
#[cfg(test)]
mod tests;

pub use detect::*;
use table::CARRIERS;

/// Every carrier in the table.
pub fn all() -> &'static [Carrier] {
    CARRIERS
}

/// A carrier by its code (`thailand_post`).
pub fn by_code(code: &str) -> Option<&'static Carrier> {
    CARRIERS.iter().find(|c| c.code == code)
}

/// A carrier by the name a platform or merchant gives it, matched case-insensitively and
/// ignoring spaces and punctuation (`"dhl express"`, `"United Parcel Service"`, `"Yurtiçi Kargo"`).
///
/// ```
/// let c = aftercare::carrier::by_name("united parcel service").unwrap();
/// assert_eq!(c.code, "ups");
/// assert!(aftercare::carrier::by_name("Pigeon Post").is_none());
/// ```
pub fn by_name(name: &str) -> Option<&'static Carrier> {
    let key = name_key(name);
    if key.is_empty() {
        return None;
    }
    CARRIERS.iter().find(|c| {
        same_key(c.name, &key)
            || same_key(c.code, &key)
            || c.aliases.iter().any(|a| same_key(a, &key))
    })
}

/// The comparison key of a name: lowercase letters and digits only.
fn name_key(s: &str) -> String {
    key_chars(s).collect()
}

fn key_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
}

/// Whether `name`'s key equals `key`, without allocating.
fn same_key(name: &str, key: &str) -> bool {
    key_chars(name).eq(key.chars())
}

/// Names platforms use when they do not know the carrier.
fn is_placeholder_name(name: &str) -> bool {
    matches!(
        name_key(name).as_str(),
        "" | "other" | "others" | "unknown" | "custom" | "none" | "na"
    )
}

/// Where a tracking link comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkSource {
    /// The platform's own tracking URL.
    Platform,
    /// A carrier's URL template, the carrier being named by the platform or detected from
    /// the number.
    CarrierTemplate,
    /// No link: fall back to Aftercare's own tracking page.
    None,
}

/// A tracking link and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackingLink {
    /// The URL, when one is known.
    pub url: Option<String>,
    /// Where it comes from.
    pub source: LinkSource,
    /// The carrier, when named by the platform or detected.
    pub carrier: Option<&'static Carrier>,
}

/// The link to give a customer for a tracking number.
///
/// 1. The platform's own URL wins when it is an absolute `https://` or `http://` URL
///    (anything else, such as `javascript:`, is ignored).
/// 2. Else the carrier named by the platform, when it is in the table and has a template.
///    A named carrier that is unknown, or known without a deep link, gives no link: the
///    number is not matched against other carriers' formats.
/// 3. Else the carrier detected from the number, when the detection is unique.
/// 4. Else no link ([`LinkSource::None`]): use Aftercare's own tracking page.
///
/// ```
/// use aftercare::carrier::{tracking_link, LinkSource};
/// let l = tracking_link(Some("javascript:alert(1)"), Some("Aramex"), "35024351234");
/// assert_eq!(l.source, LinkSource::CarrierTemplate);
/// assert_eq!(l.url.as_deref(), Some("https://www.aramex.com/track/results?ShipmentNumber=35024351234"));
/// ```
pub fn tracking_link(
    platform_url: Option<&str>,
    carrier_name: Option<&str>,
    number: &str,
) -> TrackingLink {
    let named = carrier_name.filter(|n| !is_placeholder_name(n));
    let named_carrier = named.and_then(by_name);
    if let Some(url) = platform_url.map(str::trim).filter(|u| is_web_url(u)) {
        let carrier = named_carrier.or_else(|| match detect(number) {
            Detection::Unique(c) => Some(c),
            _ => None,
        });
        return TrackingLink {
            url: Some(url.to_owned()),
            source: LinkSource::Platform,
            carrier,
        };
    }
    let none = |carrier| TrackingLink {
        url: None,
        source: LinkSource::None,
        carrier,
    };
    if strip_whitespace(number).is_empty() {
        return none(named_carrier);
    }
    let carrier = match (named, named_carrier) {
        (Some(_), Some(c)) => c,
        (Some(_), None) => return none(None),
        (None, _) => match detect(number) {
            Detection::Unique(c) => c,
            _ => return none(None),
        },
    };
    match carrier.url_for(number) {
        Some(url) => TrackingLink {
            url: Some(url),
            source: LinkSource::CarrierTemplate,
            carrier: Some(carrier),
        },
        None => none(Some(carrier)),
    }
}

/// Whether `s` is an absolute http(s) URL with a host and no whitespace or control characters.
fn is_web_url(s: &str) -> bool {
    let has = |p: &str| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    let rest = if has("https://") {
        &s[8..]
    } else if has("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let host = authority.rsplit('@').next().unwrap_or("");
    !host.is_empty()
        && !host.starts_with(':')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !s.contains(['<', '>', '"', '\\', '`'])
}
