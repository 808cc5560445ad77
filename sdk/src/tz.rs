//! Working out a customer's time zone, for quiet hours: from the shipping address, else from
//! the phone number's country code, else the shop's default.

use chrono_tz::Tz;

use crate::model::Address;

/// The IANA zone for a country (ISO 3166-1 alpha-2) and, for countries spanning several
/// zones, its province/state code. `None` when it cannot be told.
///
/// ```
/// use aftercare::tz::zone_for;
/// assert_eq!(zone_for("TR", None).map(|z| z.name()), Some("Europe/Istanbul"));
/// assert_eq!(zone_for("US", Some("CA")).map(|z| z.name()), Some("America/Los_Angeles"));
/// assert_eq!(zone_for("US", None), None); // several zones: not guessed
/// ```
pub fn zone_for(country: &str, province: Option<&str>) -> Option<Tz> {
    let country = country.trim().to_ascii_uppercase();
    let province = province.map(|p| p.trim().to_ascii_uppercase());
    let name = match (country.as_str(), province.as_deref()) {
        ("US", Some(p)) => us_state(p)?,
        ("CA", Some(p)) => match p {
            "BC" | "YT" => "America/Vancouver",
            "AB" | "NT" => "America/Edmonton",
            "SK" => "America/Regina",
            "MB" => "America/Winnipeg",
            "ON" | "QC" | "NU" => "America/Toronto",
            "NB" | "NS" | "PE" => "America/Halifax",
            "NL" => "America/St_Johns",
            _ => return None,
        },
        ("BR", Some(p)) => match p {
            "AM" | "RR" | "RO" => "America/Manaus",
            "MT" | "MS" => "America/Cuiaba",
            "AC" => "America/Rio_Branco",
            "PA" | "AP" => "America/Belem",
            "CE" | "RN" | "PB" | "PI" | "MA" => "America/Fortaleza",
            "PE" => "America/Recife",
            "AL" | "SE" => "America/Maceio",
            "BA" => "America/Bahia",
            "TO" => "America/Araguaina",
            _ => "America/Sao_Paulo",
        },
        ("MX", Some(p)) => match p {
            "BC" | "BCN" => "America/Tijuana",
            "BCS" | "SIN" | "NAY" => "America/Mazatlan",
            "SON" => "America/Hermosillo",
            "CHH" | "CHIH" => "America/Chihuahua",
            "ROO" | "QR" => "America/Cancun",
            _ => "America/Mexico_City",
        },
        ("AU", Some(p)) => match p {
            "NSW" | "ACT" => "Australia/Sydney",
            "VIC" => "Australia/Melbourne",
            "QLD" => "Australia/Brisbane",
            "SA" => "Australia/Adelaide",
            "WA" => "Australia/Perth",
            "TAS" => "Australia/Hobart",
            "NT" => "Australia/Darwin",
            _ => return None,
        },
        (c, _) => single_zone(c)?,
    };
    name.parse().ok()
}

fn single_zone(country: &str) -> Option<&'static str> {
    Some(match country {
        "TR" => "Europe/Istanbul",
        "SA" => "Asia/Riyadh",
        "AE" => "Asia/Dubai",
        "EG" => "Africa/Cairo",
        "QA" => "Asia/Qatar",
        "KW" => "Asia/Kuwait",
        "BH" => "Asia/Bahrain",
        "OM" => "Asia/Muscat",
        "JO" => "Asia/Amman",
        "MA" => "Africa/Casablanca",
        "TH" => "Asia/Bangkok",
        "GB" => "Europe/London",
        "IE" => "Europe/Dublin",
        "DE" => "Europe/Berlin",
        "FR" => "Europe/Paris",
        "ES" => "Europe/Madrid",
        "PT" => "Europe/Lisbon",
        "IT" => "Europe/Rome",
        "NL" => "Europe/Amsterdam",
        "BE" => "Europe/Brussels",
        "CH" => "Europe/Zurich",
        "AT" => "Europe/Vienna",
        "SE" => "Europe/Stockholm",
        "NO" => "Europe/Oslo",
        "DK" => "Europe/Copenhagen",
        "FI" => "Europe/Helsinki",
        "PL" => "Europe/Warsaw",
        "GR" => "Europe/Athens",
        "AR" => "America/Argentina/Buenos_Aires",
        "CL" => "America/Santiago",
        "CO" => "America/Bogota",
        "PE" => "America/Lima",
        "UY" => "America/Montevideo",
        "IN" => "Asia/Kolkata",
        "JP" => "Asia/Tokyo",
        "KR" => "Asia/Seoul",
        "SG" => "Asia/Singapore",
        "MY" => "Asia/Kuala_Lumpur",
        "PH" => "Asia/Manila",
        "VN" => "Asia/Ho_Chi_Minh",
        "NZ" => "Pacific/Auckland",
        "ZA" => "Africa/Johannesburg",
        "NG" => "Africa/Lagos",
        "KE" => "Africa/Nairobi",
        "IL" => "Asia/Jerusalem",
        "PK" => "Asia/Karachi",
        _ => return None,
    })
}

fn us_state(p: &str) -> Option<&'static str> {
    Some(match p {
        "CA" | "WA" | "OR" | "NV" => "America/Los_Angeles",
        "AZ" => "America/Phoenix",
        "MT" | "WY" | "CO" | "NM" | "UT" | "ID" => "America/Denver",
        "TX" | "OK" | "KS" | "NE" | "SD" | "ND" | "MN" | "IA" | "MO" | "AR" | "LA" | "MS"
        | "AL" | "WI" | "IL" | "TN" => "America/Chicago",
        "AK" => "America/Anchorage",
        "HI" => "Pacific/Honolulu",
        "NY" | "NJ" | "PA" | "MA" | "CT" | "RI" | "VT" | "NH" | "ME" | "DE" | "MD" | "DC"
        | "VA" | "WV" | "NC" | "SC" | "GA" | "FL" | "OH" | "MI" | "IN" | "KY" => "America/New_York",
        "PR" => "America/Puerto_Rico",
        _ => return None,
    })
}

/// The country for an E.164 number's calling code, for codes that map to one country.
fn country_for_phone(phone: &str) -> Option<&'static str> {
    let digits: String = phone
        .trim()
        .strip_prefix('+')?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    const CODES: &[(&str, &str)] = &[
        ("966", "SA"),
        ("971", "AE"),
        ("974", "QA"),
        ("965", "KW"),
        ("973", "BH"),
        ("968", "OM"),
        ("962", "JO"),
        ("212", "MA"),
        ("351", "PT"),
        ("353", "IE"),
        ("358", "FI"),
        ("972", "IL"),
        ("234", "NG"),
        ("254", "KE"),
        ("598", "UY"),
        ("90", "TR"),
        ("66", "TH"),
        ("44", "GB"),
        ("49", "DE"),
        ("33", "FR"),
        ("34", "ES"),
        ("39", "IT"),
        ("31", "NL"),
        ("32", "BE"),
        ("41", "CH"),
        ("43", "AT"),
        ("46", "SE"),
        ("47", "NO"),
        ("45", "DK"),
        ("48", "PL"),
        ("30", "GR"),
        ("20", "EG"),
        ("54", "AR"),
        ("56", "CL"),
        ("57", "CO"),
        ("51", "PE"),
        ("91", "IN"),
        ("81", "JP"),
        ("82", "KR"),
        ("65", "SG"),
        ("60", "MY"),
        ("63", "PH"),
        ("84", "VN"),
        ("64", "NZ"),
        ("27", "ZA"),
        ("92", "PK"),
    ];
    CODES
        .iter()
        .find(|(code, _)| digits.starts_with(code))
        .map(|(_, c)| *c)
}

/// The customer's zone: the shipping address first, then the phone number, else `None`
/// (callers fall back to the shop's zone).
///
/// ```
/// use aftercare::tz::infer;
/// assert_eq!(infer(None, Some("+66812345678")).map(|z| z.name()), Some("Asia/Bangkok"));
/// assert_eq!(infer(None, Some("+15555550100")), None); // +1 spans many zones
/// ```
pub fn infer(address: Option<&Address>, phone: Option<&str>) -> Option<Tz> {
    if let Some(a) = address
        && let Some(c) = a.country_code.as_deref()
        && let Some(z) = zone_for(c, a.province_code.as_deref())
    {
        return Some(z);
    }
    let phone = phone.or_else(|| address.and_then(|a| a.phone.as_deref()))?;
    zone_for(country_for_phone(phone)?, None)
}
