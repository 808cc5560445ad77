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

/// The carriers known to Aftercare, from `messaging.md` §5.2.
static CARRIERS: &[Carrier] = &[
    Carrier {
        code: "ups",
        name: "UPS",
        aliases: &[
            "United Parcel Service",
            "UPS Ground",
            "UPS Express",
            "UPS Mail Innovations",
            "UPS SurePost",
        ],
        url_template: Some("https://www.ups.com/track?loc=en_US&tracknum={n}"),
        template_source: "community code (current style); tracking_number_data ups.json uses https://wwwapps.ups.com/WebTracking/track?track=yes&trackNums=%s",
        confidence: Confidence::High,
        s10_countries: &[],
    },
    Carrier {
        code: "usps",
        name: "USPS",
        aliases: &[
            "United States Postal Service",
            "U.S. Postal Service",
            "US Postal Service",
        ],
        url_template: Some("https://tools.usps.com/go/TrackConfirmAction?tLabels={n}"),
        template_source: "tracking_number_data usps.json; Karrio usps/utils.py",
        confidence: Confidence::High,
        s10_countries: &["US"],
    },
    Carrier {
        code: "fedex",
        name: "FedEx",
        aliases: &[
            "Federal Express",
            "FedEx Ground",
            "FedEx Express",
            "FedEx SmartPost",
            "FedEx Ground Economy",
        ],
        url_template: Some("https://www.fedex.com/fedextrack/?trknbr={n}"),
        template_source: "Karrio fedex/utils.py; tracking_number_data fedex.json uses https://www.fedex.com/apps/fedextrack/?tracknumbers=%s",
        confidence: Confidence::High,
        s10_countries: &[],
    },
    Carrier {
        code: "dhl_express",
        name: "DHL Express",
        aliases: &["DHL", "DHL Express Worldwide", "DHL International"],
        url_template: Some("https://www.dhl.com/en/express/tracking.html?AWB={n}&brand=DHL"),
        template_source: "tracking_number_data dhl.json (http://www.dhl.com/en/express/tracking.html?brand=DHL&AWB=%s)",
        confidence: Confidence::High,
        s10_countries: &[],
    },
    Carrier {
        code: "dhl_ecommerce",
        name: "DHL eCommerce",
        aliases: &[
            "DHL eCommerce Solutions",
            "DHL Global Mail",
            "DHL eCommerce US",
        ],
        url_template: Some("https://webtrack.dhlecs.com/orders?trackingNumber={n}"),
        template_source: "community plugin (WC_Shipment_Tracker provider list)",
        confidence: Confidence::Low,
        s10_countries: &[],
    },
    Carrier {
        code: "royal_mail",
        name: "Royal Mail",
        aliases: &["Royal Mail Group", "Parcelforce"],
        url_template: Some("https://www.royalmail.com/track-your-item#/tracking-results/{n}"),
        template_source: "8+ independent codebases incl. a nopCommerce Royal Mail plugin",
        confidence: Confidence::Medium,
        s10_countries: &["GB"],
    },
    Carrier {
        code: "canada_post",
        name: "Canada Post",
        aliases: &["Postes Canada", "Canada Post Corporation"],
        url_template: Some(
            "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={n}",
        ),
        template_source: "tracking_number_data canadapost.json",
        confidence: Confidence::High,
        s10_countries: &["CA"],
    },
    Carrier {
        code: "australia_post",
        name: "Australia Post",
        aliases: &["AusPost", "Aus Post"],
        url_template: Some("https://auspost.com.au/mypost/track/#/details/{n}"),
        template_source: "community (many); Karrio uses https://auspost.com.au/mypost/beta/track/details/{}",
        confidence: Confidence::Medium,
        s10_countries: &["AU"],
    },
    Carrier {
        code: "correios",
        name: "Correios",
        aliases: &[
            "Correios Brazil",
            "Correios do Brasil",
            "Correios Brasil",
            "Empresa Brasileira de Correios e Telégrafos",
        ],
        url_template: Some("https://rastreamento.correios.com.br/app/index.php?objeto={n}"),
        template_source: "many Brazilian codebases (some use objetos=)",
        confidence: Confidence::Medium,
        s10_countries: &["BR"],
    },
    Carrier {
        code: "aramex",
        name: "Aramex",
        aliases: &["Aramex Express", "أرامكس"],
        url_template: Some("https://www.aramex.com/track/results?ShipmentNumber={n}"),
        template_source: "8+ codebases; regional variants such as /sa/en/track/shipments?ShipmentNumber=",
        confidence: Confidence::Medium,
        s10_countries: &[],
    },
    Carrier {
        code: "smsa",
        name: "SMSA Express",
        aliases: &["SMSA", "سمسا"],
        url_template: Some("https://www.smsaexpress.com/trackingdetails?tracknumbers={n}"),
        template_source: "6+ codebases incl. WooCommerce and Odoo modules",
        confidence: Confidence::Medium,
        s10_countries: &[],
    },
    Carrier {
        code: "spl",
        name: "Saudi Post",
        aliases: &[
            "SPL",
            "Saudi Post SPL",
            "Saudi Post | SPL",
            "SPL Online",
            "البريد السعودي",
            "سبل",
        ],
        url_template: Some("https://splonline.com.sa/en/track-and-trace/?trackingNumber={n}"),
        template_source: "1-2 inconsistent community sources; verify",
        confidence: Confidence::Low,
        s10_countries: &["SA"],
    },
    Carrier {
        code: "emirates_post",
        name: "Emirates Post",
        aliases: &["Emirates Post Group", "بريد الإمارات"],
        url_template: None,
        template_source: "no deep link known; the page is https://www.emiratespost.ae/all-services/track-a-package",
        confidence: Confidence::Low,
        s10_countries: &["AE"],
    },
    Carrier {
        code: "thailand_post",
        name: "Thailand Post",
        aliases: &["Thai Post", "ไปรษณีย์ไทย"],
        url_template: Some("https://track.thailandpost.co.th/?trackNumber={n}"),
        template_source: "9+ codebases",
        confidence: Confidence::High,
        s10_countries: &["TH"],
    },
    Carrier {
        code: "kex",
        name: "KEX Express",
        aliases: &["KEX", "Kerry Express", "Kerry Express Thailand", "Kerry"],
        url_template: Some("https://th.kex-express.com/th/track/?track={n}"),
        template_source: "community; before the rebrand https://th.kerryexpress.com/en/track/?track={n}",
        confidence: Confidence::Medium,
        s10_countries: &[],
    },
    Carrier {
        code: "flash",
        name: "Flash Express",
        aliases: &["Flash", "Flash Express Thailand"],
        url_template: Some("https://www.flashexpress.co.th/fle/tracking?se={n}"),
        template_source: "9+ codebases (one uses /tracking/?se=)",
        confidence: Confidence::Medium,
        s10_countries: &[],
    },
    Carrier {
        code: "yurtici",
        name: "Yurtiçi Kargo",
        aliases: &[
            "Yurtici Kargo",
            "Yurtiçi",
            "Yurtici",
            "Yurtiçi Kargo Servisi",
        ],
        url_template: Some(
            "https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code={n}",
        ),
        template_source: "8+ codebases (one uses online-islemler)",
        confidence: Confidence::Medium,
        s10_countries: &[],
    },
    Carrier {
        code: "aras",
        name: "Aras Kargo",
        aliases: &["Aras", "Aras Cargo"],
        url_template: Some("https://kargotakip.araskargo.com.tr/mainpage.aspx?code={n}"),
        template_source: "2+ codebases; variants exist",
        confidence: Confidence::Low,
        s10_countries: &[],
    },
    Carrier {
        code: "mng",
        name: "MNG Kargo",
        aliases: &[
            "MNG",
            "MNG Cargo",
            "DHL eCommerce Turkey",
            "DHL eCommerce Türkiye",
        ],
        url_template: None,
        template_source: "no consistent pattern; several incompatible ones exist; verify",
        confidence: Confidence::Low,
        s10_countries: &[],
    },
    Carrier {
        code: "ptt",
        name: "PTT Kargo",
        aliases: &["PTT", "PTT Posta", "Türkiye Posta", "Turkish Post"],
        url_template: Some("https://gonderitakip.ptt.gov.tr/Track/Verify?q={n}"),
        template_source: "3+ codebases (one uses /Track/Result?q=)",
        confidence: Confidence::Medium,
        s10_countries: &["TR"],
    },
    Carrier {
        code: "japan_post",
        name: "Japan Post",
        aliases: &["JP Post", "Nippon Post"],
        url_template: Some(
            "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={n}&locale=en",
        ),
        template_source: "6+ codebases",
        confidence: Confidence::High,
        s10_countries: &["JP"],
    },
    Carrier {
        code: "china_post",
        name: "China Post",
        aliases: &["China EMS", "EMS China", "China Post EMS"],
        url_template: Some("https://yjcx.ems.com.cn/qps/english/yjcx?mailNo={n}"),
        template_source: "community; the site may need JS or a captcha",
        confidence: Confidence::Low,
        s10_countries: &["CN"],
    },
];

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

/// What a tracking number says about its carrier.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detection {
    /// Exactly one carrier's format (with its check digit, where it has one) fits.
    Unique(&'static Carrier),
    /// Several carriers' formats fit; Aftercare does not guess between them.
    Ambiguous(Vec<&'static Carrier>),
    /// No known format fits.
    Unknown,
}

/// One number format that fits a tracking number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormatMatch {
    /// The carrier.
    pub carrier: &'static Carrier,
    /// The format's name, as in tracking_number_data (`UPS 1Z`, `FedEx Express (12)`, `S10`).
    pub format: &'static str,
}

/// The carrier of a tracking number, when its format (and check digit) says so unambiguously.
/// Whitespace is ignored and letters are case-insensitive.
/// UPU S10 numbers (`RB123456785GB`) go to the postal operator of their country suffix when
/// it is in the table, and are [`Detection::Unknown`] otherwise.
///
/// ```
/// use aftercare::carrier::{detect, Detection};
/// assert!(matches!(detect("RB123456785GB"), Detection::Unique(c) if c.code == "royal_mail"));
/// assert!(matches!(detect("RB123456786GB"), Detection::Unknown)); // wrong check digit
/// ```
pub fn detect(tracking_number: &str) -> Detection {
    let mut carriers: Vec<&'static Carrier> = Vec::new();
    for m in formats_matching(tracking_number) {
        if !carriers.iter().any(|c| c.code == m.carrier.code) {
            carriers.push(m.carrier);
        }
    }
    match carriers.len() {
        0 => Detection::Unknown,
        1 => Detection::Unique(carriers[0]),
        _ => Detection::Ambiguous(carriers),
    }
}

/// Every known format a tracking number fits, with its check digit verified.
pub fn formats_matching(tracking_number: &str) -> Vec<FormatMatch> {
    let n: String = strip_whitespace(tracking_number).to_ascii_uppercase();
    let mut out = Vec::new();
    if n.is_empty() || !n.is_ascii() {
        return out;
    }
    fn push(out: &mut Vec<FormatMatch>, code: &str, format: &'static str) {
        if let Some(carrier) = by_code(code) {
            out.push(FormatMatch { carrier, format });
        }
    }
    let b = n.as_bytes();
    let digits = b.iter().all(u8::is_ascii_digit);
    let len = b.len();

    // UPS 1Z: 1Z + 6 account + 2 service + 7 package + check; mod 10, odd positions x2.
    if len == 18
        && n.starts_with("1Z")
        && b[2..].iter().all(u8::is_ascii_alphanumeric)
        && mod10(&b[2..17], b[17], 2, 1)
    {
        push(&mut out, "ups", "UPS 1Z");
    }

    // UPU S10: 2 letters, 8 digits, check digit, 2-letter country of the issuing post.
    if len == 13
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..11].iter().all(u8::is_ascii_digit)
        && b[11..].iter().all(u8::is_ascii_uppercase)
        && s10_check(&b[2..10]) == Some(b[10] - b'0')
    {
        let country = &n[11..13];
        if let Some(c) = CARRIERS.iter().find(|c| c.s10_countries.contains(&country)) {
            out.push(FormatMatch {
                carrier: c,
                format: "S10",
            });
        }
    }

    // DHL Express piece id: J + 2-3 letters + 9-10 digits, no check digit.
    if b[0] == b'J' {
        let letters = b[1..].iter().take_while(|c| c.is_ascii_uppercase()).count();
        let rest = &b[1 + letters..];
        if (2..=3).contains(&letters)
            && (9..=10).contains(&rest.len())
            && rest.iter().all(u8::is_ascii_digit)
        {
            push(&mut out, "dhl_express", "DHL Express (Piece ID)");
        }
    }

    // DHL eCommerce: a two-letter prefix and 10-39 digits, no check digit.
    if len >= 12 {
        const PREFIXES: [&str; 10] = ["GM", "LX", "RX", "UV", "CN", "SG", "TH", "IN", "HK", "MY"];
        let rest = &b[2..];
        if PREFIXES.contains(&&n[..2])
            && (10..=39).contains(&rest.len())
            && rest.iter().all(u8::is_ascii_digit)
        {
            push(&mut out, "dhl_ecommerce", "DHL E-Commerce");
        }
    }

    if !digits {
        return out;
    }

    // DHL Express: 10-11 digits, the last is the rest modulo 7.
    if (10..=11).contains(&len) && mod7(&b[..len - 1], b[len - 1]) {
        push(&mut out, "dhl_express", "DHL Express");
    }
    // FedEx Express (12): weights 3,1,7 modulo 11 modulo 10.
    if len == 12 && weighted_mod11_mod10(&b[..11], b[11], &[3, 1, 7]) {
        push(&mut out, "fedex", "FedEx Express (12)");
    }
    // FedEx Ground (15): mod 10, odd positions x3.
    if len == 15 && mod10(&b[..14], b[14], 3, 1) {
        push(&mut out, "fedex", "FedEx Ground");
    }
    // Canada Post (16): mod 10, even positions x3.
    if len == 16 && mod10(&b[..15], b[15], 1, 3) {
        push(&mut out, "canada_post", "Canada Post (16)");
    }
    // FedEx Ground SSCC-18: container type, 15-digit serial, check.
    if len == 18 && mod10(&b[2..17], b[17], 1, 3) {
        push(&mut out, "fedex", "FedEx Ground (SSCC-18)");
    }
    // USPS 20: mod 10, even positions x3.
    if len == 20 && mod10(&b[..19], b[19], 1, 3) {
        push(&mut out, "usps", "USPS 20");
    }
    // FedEx Ground 96 (22): 96, SCNC, service, 14-digit serial, check.
    if len == 22 && n.starts_with("96") && mod10(&b[7..21], b[21], 3, 1) {
        push(&mut out, "fedex", "FedEx Ground 96 (22)");
    }
    // FedEx SmartPost (IMpb CO3): optional 92, 19 digits, check; the serial gets 92 prepended.
    if (len == 20 || (len == 22 && n.starts_with("92"))) && {
        let body = if len == 22 { &b[2..21] } else { &b[..19] };
        let serial: Vec<u8> = b"92".iter().chain(body).copied().collect();
        mod10(&serial, b[len - 1], 1, 3)
    } {
        push(&mut out, "fedex", "FedEx SmartPost");
    }
    // FedEx Express (34): 100 + 2 + 10 + ZIP + 13-digit serial + check.
    if len == 34 && n.starts_with("100") && weighted_mod11_mod10(&b[20..33], b[33], &[1, 7, 3]) {
        push(&mut out, "fedex", "FedEx Express (34)");
    }
    // FedEx Ground GSN (34): 96 + ... + 13-digit serial + check.
    if len == 34 && n.starts_with("96") && weighted_mod11_mod10(&b[20..33], b[33], &[1, 7, 3]) {
        push(&mut out, "fedex", "FedEx Ground GSN");
    }
    if usps_impb(b) {
        push(&mut out, "usps", "USPS 91 (IMpb)");
    }
    if usps_34v2(b) {
        push(&mut out, "usps", "USPS 34v2");
    }
    out
}

/// USPS IMpb ("USPS 91"): optional `420`+ZIP5, optional application id `9[1-5]`, SCNC(2),
/// service(2), shipper(8), package(11 or 7), check; the serial gets `91` prepended when it
/// does not start with `9[1-5]`. mod 10, even positions x3.
fn usps_impb(b: &[u8]) -> bool {
    let mut bodies: Vec<&[u8]> = vec![b];
    if b.len() > 8 && b.starts_with(b"420") {
        bodies.push(&b[8..]);
    }
    bodies.into_iter().any(|body| {
        let len = body.len();
        let ai = body.len() >= 2 && body[0] == b'9' && (b'1'..=b'5').contains(&body[1]);
        let layout_ok = if ai {
            len == 22 || len == 26
        } else {
            len == 20 || len == 24
        };
        if !layout_ok {
            return false;
        }
        let serial_part = &body[..len - 1];
        let serial: Vec<u8> = if ai {
            serial_part.to_vec()
        } else {
            b"91".iter().chain(serial_part).copied().collect()
        };
        mod10(&serial, body[len - 1], 1, 3)
    })
}

/// USPS 34v2: `420` + ZIP5 + routing(4) + optional `9[2-5]` + shipper(8) + package(11) + check.
fn usps_34v2(b: &[u8]) -> bool {
    if !b.starts_with(b"420") || !(b.len() == 32 || b.len() == 34) {
        return false;
    }
    let serial = &b[12..b.len() - 1];
    if b.len() == 34 && !(serial[0] == b'9' && (b'2'..=b'5').contains(&serial[1])) {
        return false;
    }
    mod10(serial, b[b.len() - 1], 1, 3)
}

/// The value tracking_number_data gives a character in mod-10 sums: digits as themselves,
/// letters as `(ascii - 3) % 10`.
fn char_value(c: u8) -> u32 {
    if c.is_ascii_digit() {
        u32::from(c - b'0')
    } else {
        u32::from(c.wrapping_sub(3)) % 10
    }
}

/// tracking_number_data `mod10`: 0-based odd positions times `odds`, even positions times
/// `evens`; check = (10 - sum % 10) % 10.
fn mod10(seq: &[u8], check: u8, odds: u32, evens: u32) -> bool {
    if !check.is_ascii_digit() {
        return false;
    }
    let total: u32 = seq
        .iter()
        .enumerate()
        .map(|(i, &c)| char_value(c) * if i % 2 == 1 { odds } else { evens })
        .sum();
    (10 - total % 10) % 10 == u32::from(check - b'0')
}

/// tracking_number_data `mod7`: the number without its check digit, modulo 7.
fn mod7(seq: &[u8], check: u8) -> bool {
    let rem = seq
        .iter()
        .fold(0u32, |acc, &c| (acc * 10 + u32::from(c - b'0')) % 7);
    check.is_ascii_digit() && rem == u32::from(check - b'0')
}

/// tracking_number_data `sum_product_with_weightings_and_modulo` (11 then 10), the weights
/// repeating.
fn weighted_mod11_mod10(seq: &[u8], check: u8, weights: &[u32]) -> bool {
    let total: u32 = seq
        .iter()
        .zip(weights.iter().cycle())
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    check.is_ascii_digit() && total % 11 % 10 == u32::from(check - b'0')
}

/// The UPU S10 check digit of 8 serial digits: weights 8,6,4,2,3,5,9,7; r = sum mod 11;
/// 11 - r, except r = 1 gives 0 and r = 0 gives 5.
///
/// ```
/// assert_eq!(aftercare::carrier::s10_check(b"12345678"), Some(5));
/// ```
pub fn s10_check(serial: &[u8]) -> Option<u8> {
    if serial.len() != 8 || !serial.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let total: u32 = serial
        .iter()
        .zip([8u32, 6, 4, 2, 3, 5, 9, 7])
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    Some(match total % 11 {
        0 => 5,
        1 => 0,
        // `r` is 2..=10, so 11 - r fits in a digit.
        r => u8::try_from(11 - r).unwrap_or(0),
    })
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn code(d: &Detection) -> Vec<&'static str> {
        match d {
            Detection::Unique(c) => vec![c.code],
            Detection::Ambiguous(cs) => cs.iter().map(|c| c.code).collect(),
            Detection::Unknown => vec![],
        }
    }

    /// Valid numbers from tracking_number_data `couriers/*.json` `test_numbers.valid`.
    #[test]
    fn valid_numbers_from_tracking_number_data_are_detected() {
        let cases: &[(&str, &str)] = &[
            // ups.json
            ("1Z5R89390357567127", "ups"),
            ("1Z879E930346834440", "ups"),
            ("1Z410E7W0392751591", "ups"),
            ("1Z8V92A70367203024", "ups"),
            // usps.json USPS 20 / USPS 91 / 34v2
            ("0307 1790 0005 2348 3741", "usps"),
            ("9400 1112 0108 0805 4830 16", "usps"),
            ("9361 2898 7870 0317 6337 95", "usps"),
            ("9405803699300124287899", "usps"),
            ("9505 5110 6960 5048 6006 24", "usps"),
            ("9101 1234 5678 9000 0000 13", "usps"),
            ("420 22153 9101026837331000039521", "usps"),
            ("4201002334249200190132607600833457", "usps"),
            ("4201028200009261290113185417468510", "usps"),
            // fedex.json
            ("986578788855", "fedex"),
            ("477179081230", "fedex"),
            ("799531274483", "fedex"),
            ("790535312317", "fedex"),
            ("974367662710", "fedex"),
            ("0414 4176 0228 964", "fedex"),
            ("5682 8361 0012 000", "fedex"),
            ("5682 8361 0012 734", "fedex"),
            ("9611020987654312345672", "fedex"),
            ("1001921334250001000300779017972697", "fedex"),
            ("1001901781990001000300617767839437", "fedex"),
            ("9622001900000000000000776632517510", "fedex"),
            ("9632001560123456789900794808390594", "fedex"),
            ("00 0123 4500 0000 0027", "fedex"),
            // dhl.json
            ("3318810025", "dhl_express"),
            ("73891051146", "dhl_express"),
            ("8487135506", "dhl_express"),
            ("1099255990", "dhl_express"),
            ("JJD0099999999", "dhl_express"),
            ("JVGL0999999990", "dhl_express"),
            ("GM2951173225174494", "dhl_ecommerce"),
            ("GM295117494011169042", "dhl_ecommerce"),
            // canadapost.json
            ("0073938000549297", "canada_post"),
            // s10.json with the issuing post's country
            ("RB123456785GB", "royal_mail"),
            ("RB123456785US", "usps"),
            // S10 numbers built with the S10 check digit for the posts in the table.
            ("EE123456785TH", "thailand_post"),
            ("RR123456785BR", "correios"),
            ("CP123456785TR", "ptt"),
            ("RA123456785SA", "spl"),
            ("EE123456785AE", "emirates_post"),
            ("LX000000005CN", "china_post"),
        ];
        for (n, want) in cases {
            assert_eq!(code(&detect(n)), vec![*want], "{n}");
        }
    }

    /// Invalid numbers from tracking_number_data `test_numbers.invalid`: never given to the
    /// carrier whose format they break (another carrier's format may still fit, by chance).
    #[test]
    fn wrong_check_digits_are_not_given_to_the_carrier() {
        for (n, not) in [
            ("2Z5R89390357567127", "ups"),
            ("1A5R89390357567127", "ups"),
            ("1Z1111111111111111", "ups"),
            ("0307 1790 0005 2348 3742", "usps"),
            ("996578788855", "fedex"),
            ("5682 8361 0012 732", "fedex"),
            ("9600000000000000000001", "fedex"),
            ("1001901781990001000300617767839438", "fedex"),
            ("9622001560001234567100794808390595", "fedex"),
            ("9261292700768711948020", "fedex"),
            ("3318810010", "dhl_express"),
            ("3318810034", "dhl_express"),
            ("3318810011", "dhl_express"),
            ("XJD0099999998", "dhl_express"),
            ("GS295117494011169041", "dhl_ecommerce"),
            ("0073938000549292", "canada_post"),
            ("RB123456786US", "usps"),
            ("4201028200009261290113185417468511", "usps"),
        ] {
            assert!(!code(&detect(n)).contains(&not), "{n} detected as {not}");
        }
    }

    #[test]
    fn random_text_and_wrong_digits_are_unknown() {
        for n in [
            "1Z5R89390357567128",
            "3318810010",
            "996578788855",
            "RB123456786GB",
            "RB123456785XX",
            "0073938000549292",
            "",
            "   ",
            "hello",
            "123",
            "٣٣١٨٨١٠٠٢٥",
        ] {
            assert_eq!(detect(n), Detection::Unknown, "{n:?}");
        }
    }

    #[test]
    fn s10_check_digit_matches_the_upu_rule() {
        // RB123456785GB: 1*8+2*6+3*4+4*2+5*3+6*5+7*9+8*7 = 204, 204 % 11 = 6, 11 - 6 = 5.
        assert_eq!(s10_check(b"12345678"), Some(5));
        // r = 0 -> 5: 00000000.
        assert_eq!(s10_check(b"00000000"), Some(5));
        // r = 1 -> 0: 0*8 + 2*6 = 12, 12 % 11 = 1.
        assert_eq!(s10_check(b"02000000"), Some(0));
        assert_eq!(s10_check(b"1234567"), None);
        assert_eq!(s10_check(b"1234567A"), None);
    }

    #[test]
    fn colliding_formats_are_ambiguous_not_guessed() {
        // A 22-digit 92... number fits USPS IMpb and FedEx SmartPost with the same checksum.
        let d = detect("9261292700768711948021");
        assert_eq!(code(&d), vec!["fedex", "usps"]);
        // 20-digit numbers: three formats share the length; each fits only its own check digit.
        let fmt = |n: &str| -> Vec<&str> { formats_matching(n).iter().map(|m| m.format).collect() };
        assert_eq!(fmt("61299998820821171811"), ["FedEx SmartPost"]);
        assert_eq!(fmt("71123456789123456787"), ["USPS 20"]);
        assert_eq!(fmt("7196 9010 7560 0307 7385"), ["USPS 91 (IMpb)"]);
    }

    #[test]
    fn names_and_aliases_resolve() {
        for (name, want) in [
            ("UPS", "ups"),
            ("United Parcel Service", "ups"),
            ("ups", "ups"),
            ("DHL Express", "dhl_express"),
            ("DHL", "dhl_express"),
            ("DHL eCommerce", "dhl_ecommerce"),
            ("Correios", "correios"),
            ("Yurtiçi Kargo", "yurtici"),
            ("YURTICI KARGO", "yurtici"),
            ("Kerry Express", "kex"),
            ("Canada Post", "canada_post"),
            ("SMSA Express", "smsa"),
            ("البريد السعودي", "spl"),
            ("ไปรษณีย์ไทย", "thailand_post"),
            ("  fed-ex  ", "fedex"),
        ] {
            assert_eq!(by_name(name).map(|c| c.code), Some(want), "{name}");
        }
        assert!(by_name("").is_none());
        assert!(by_name("Other").is_none());
    }

    #[test]
    fn every_template_has_one_placeholder_and_is_https() {
        for c in all() {
            if let Some(t) = c.url_template {
                assert!(t.starts_with("https://"), "{}", c.code);
                assert_eq!(t.matches("{n}").count(), 1, "{}", c.code);
                assert!(is_web_url(&fill_template(t, "X")), "{}", c.code);
            }
            assert!(
                by_name(c.name).is_some_and(|f| f.code == c.code),
                "{}",
                c.code
            );
            for a in c.aliases {
                assert_eq!(by_name(a).map(|f| f.code), Some(c.code), "{a}");
            }
        }
    }

    #[test]
    fn link_precedence() {
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
            LinkSource,
            Option<&'a str>,
        );
        let cases: &[Case<'_>] = &[
            // 1. The platform's URL wins.
            (
                Some(
                    "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=7316985122357841",
                ),
                Some("Canada Post"),
                "7316985122357841",
                LinkSource::Platform,
                Some(
                    "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=7316985122357841",
                ),
            ),
            (
                Some("  HTTP://track.example/x?y=1 "),
                None,
                "x",
                LinkSource::Platform,
                Some("HTTP://track.example/x?y=1"),
            ),
            // Unsafe or relative platform URLs are ignored.
            (
                Some("javascript:alert(1)"),
                Some("UPS"),
                "1Z5R89390357567127",
                LinkSource::CarrierTemplate,
                Some("https://www.ups.com/track?loc=en_US&tracknum=1Z5R89390357567127"),
            ),
            (
                Some("data:text/html,hi"),
                None,
                "1Z5R89390357567127",
                LinkSource::CarrierTemplate,
                Some("https://www.ups.com/track?loc=en_US&tracknum=1Z5R89390357567127"),
            ),
            (
                Some("//evil.example/x"),
                None,
                "nope",
                LinkSource::None,
                None,
            ),
            (Some("https://"), None, "nope", LinkSource::None, None),
            (
                Some("https://a.example/x y"),
                None,
                "nope",
                LinkSource::None,
                None,
            ),
            (
                Some("https://a.example/\"><script>"),
                None,
                "nope",
                LinkSource::None,
                None,
            ),
            (Some(""), None, "nope", LinkSource::None, None),
            // 2. The named carrier, even when the number looks like another carrier's.
            (
                None,
                Some("Aramex"),
                "3318810025",
                LinkSource::CarrierTemplate,
                Some("https://www.aramex.com/track/results?ShipmentNumber=3318810025"),
            ),
            (
                None,
                Some("Yurtiçi Kargo"),
                "123 456 789",
                LinkSource::CarrierTemplate,
                Some(
                    "https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code=123456789",
                ),
            ),
            (
                None,
                Some("Thailand Post"),
                "EF582621151TH",
                LinkSource::CarrierTemplate,
                Some("https://track.thailandpost.co.th/?trackNumber=EF582621151TH"),
            ),
            // A named carrier without a deep link, or unknown: no link, no guess.
            (
                None,
                Some("Emirates Post"),
                "RR123456785AE",
                LinkSource::None,
                None,
            ),
            (
                None,
                Some("Pigeon Post"),
                "1Z5R89390357567127",
                LinkSource::None,
                None,
            ),
            // 3. Unique detection when the platform names nobody.
            (
                None,
                None,
                "1Z5R89390357567127",
                LinkSource::CarrierTemplate,
                Some("https://www.ups.com/track?loc=en_US&tracknum=1Z5R89390357567127"),
            ),
            (
                None,
                Some("Other"),
                "RB123456785GB",
                LinkSource::CarrierTemplate,
                Some("https://www.royalmail.com/track-your-item#/tracking-results/RB123456785GB"),
            ),
            (
                None,
                None,
                "986578788855",
                LinkSource::CarrierTemplate,
                Some("https://www.fedex.com/fedextrack/?trknbr=986578788855"),
            ),
            // 4. Ambiguous or unknown: no link.
            (None, None, "9261292700768711948021", LinkSource::None, None),
            (None, None, "7316985122357841", LinkSource::None, None),
            (None, Some("UPS"), "  ", LinkSource::None, None),
        ];
        for (pu, name, n, src, url) in cases {
            let l = tracking_link(*pu, *name, n);
            assert_eq!(l.source, *src, "{pu:?} {name:?} {n}");
            assert_eq!(l.url.as_deref(), *url, "{pu:?} {name:?} {n}");
        }
    }

    #[test]
    fn odd_numbers_are_url_encoded() {
        let cases = [
            ("AB/12?x=1&y=#2", "AB%2F12%3Fx%3D1%26y%3D%232"),
            ("12 34\t56", "123456"),
            ("a+b%c", "a%2Bb%25c"),
            ("şİ", "%C5%9F%C4%B0"),
            ("A-b_c.d~e", "A-b_c.d~e"),
        ];
        let aramex = by_code("aramex").unwrap();
        for (raw, enc) in cases {
            assert_eq!(
                aramex.url_for(raw).unwrap(),
                format!("https://www.aramex.com/track/results?ShipmentNumber={enc}")
            );
        }
        assert_eq!(by_code("emirates_post").unwrap().url_for("x"), None);
    }

    mod props {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            /// Formats whose weights are coprime with 10 catch every single-digit error: a
            /// number with one digit changed is never taken for the same format.
            #[test]
            fn single_digit_errors_are_caught(
                base in prop::sample::select(vec![
                    ("03071790000523483741", "USPS 20"),
                    ("71123456789123456787", "USPS 20"),
                    ("0073938000549297", "Canada Post (16)"),
                    ("041441760228964", "FedEx Ground"),
                    ("9400111201080805483016", "USPS 91 (IMpb)"),
                ]),
                pos in 0usize..34,
                delta in 1u8..10,
            ) {
                let (number, format) = base;
                let mut b = number.as_bytes().to_vec();
                let pos = pos % b.len();
                b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
                let changed = String::from_utf8(b).unwrap();
                prop_assert!(formats_matching(number).iter().any(|m| m.format == format));
                prop_assert!(!formats_matching(&changed).iter().any(|m| m.format == format), "{changed}");
            }

            /// Any text: detection never panics, and links are always web URLs that carry
            /// the number encoded.
            #[test]
            fn any_text_is_safe(text in "\\PC{0,40}") {
                let _ = detect(&text);
                let link = tracking_link(Some(&text), Some("Aramex"), &text);
                if let Some(url) = link.url {
                    prop_assert!(is_web_url(&url), "{url}");
                }
            }
        }
    }
}
