//! Which carrier a tracking number belongs to: formats and check digits.

use super::*;

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
pub(super) fn usps_impb(b: &[u8]) -> bool {
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
pub(super) fn usps_34v2(b: &[u8]) -> bool {
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
pub(super) fn char_value(c: u8) -> u32 {
    if c.is_ascii_digit() {
        u32::from(c - b'0')
    } else {
        u32::from(c.wrapping_sub(3)) % 10
    }
}

/// tracking_number_data `mod10`: 0-based odd positions times `odds`, even positions times
/// `evens`; check = (10 - sum % 10) % 10.
pub(super) fn mod10(seq: &[u8], check: u8, odds: u32, evens: u32) -> bool {
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
pub(super) fn mod7(seq: &[u8], check: u8) -> bool {
    let rem = seq
        .iter()
        .fold(0u32, |acc, &c| (acc * 10 + u32::from(c - b'0')) % 7);
    check.is_ascii_digit() && rem == u32::from(check - b'0')
}

/// tracking_number_data `sum_product_with_weightings_and_modulo` (11 then 10), the weights
/// repeating.
pub(super) fn weighted_mod11_mod10(seq: &[u8], check: u8, weights: &[u32]) -> bool {
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
