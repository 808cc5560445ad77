//! Numbers, money and dates written the way each supported locale writes them.
//!
//! Small tables instead of ICU, following CLDR for the six built-in locales:
//!
//! | locale | digits | grouping | decimal | example | money |
//! |---|---|---|---|---|---|
//! | `en` | Latin | `,` | `.` | `1,234.50` | `$1,234.50`, `SAR 1,234.50` |
//! | `ar` | Arabic-Indic `٠١٢٣٤٥٦٧٨٩` | `٬` (U+066C) | `٫` (U+066B) | `١٬٢٣٤٫٥٠` | `١٬٢٣٤٫٥٠ ر.س` |
//! | `tr` | Latin | `.` | `,` | `1.234,50` | `₺1.234,50` |
//! | `th` | Latin | `,` | `.` | `1,234.50` | `฿1,234.50` |
//! | `pt-BR` | Latin | `.` | `,` | `1.234,50` | `R$ 1.234,50` (no-break space) |
//! | `es` | Latin | `.` | `,` | `1234,50`, `12.345,50` | `1234,50 €` (no-break space) |
//!
//! Choices, following CLDR: Arabic uses Arabic-Indic digits (the CLDR default for `ar`, and
//! what Gulf customers read in shop messages; identifiers such as order and tracking numbers
//! stay as they are, in Latin digits). Spanish does not group four-digit numbers
//! (CLDR `minimumGroupingDigits` = 2, as the RAE recommends): `1234,50` but `12.345,50`.
//! Thai dates use the Buddhist Era year (CLDR's preferred calendar for Thailand): 2026 is 2569.
//!
//! Locales outside the six resolve by language (`pt-PT` to `pt-BR`, `es-MX` to `es`,
//! `ar-SA` to `ar`), anything else to `en`.

use chrono::{DateTime, Datelike as _, Timelike as _, Utc};
use chrono_tz::Tz;

use super::resolve_builtin;

struct Symbols {
    group: &'static str,
    decimal: &'static str,
    zero: char,
    min_grouping: usize,
}

fn symbols(locale: &str) -> Symbols {
    match resolve_builtin(locale) {
        "ar" => Symbols {
            group: "\u{066C}",
            decimal: "\u{066B}",
            zero: '\u{0660}',
            min_grouping: 1,
        },
        "tr" | "pt-BR" => Symbols {
            group: ".",
            decimal: ",",
            zero: '0',
            min_grouping: 1,
        },
        "es" => Symbols {
            group: ".",
            decimal: ",",
            zero: '0',
            min_grouping: 2,
        },
        _ => Symbols {
            group: ",",
            decimal: ".",
            zero: '0',
            min_grouping: 1,
        },
    }
}

fn digits(s: &str, zero: char) -> String {
    if zero == '0' {
        return s.to_owned();
    }
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(zero as u32 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// Writes `value × 10^-scale` with the locale's digits and separators, keeping exactly
/// `scale` decimals.
///
/// ```
/// use aftercare::l10n::format::format_decimal;
/// assert_eq!(format_decimal("en", 123450, 2), "1,234.50");
/// assert_eq!(format_decimal("tr", 123450, 2), "1.234,50");
/// assert_eq!(format_decimal("ar", 123450, 2), "١٬٢٣٤٫٥٠");
/// ```
pub fn format_decimal(locale: &str, value: i64, scale: u32) -> String {
    let sym = symbols(locale);
    let neg = value < 0;
    let abs = value.unsigned_abs();
    let pow = 10u64.pow(scale.min(18));
    let int = (abs / pow).to_string();
    let frac = abs % pow;
    let mut grouped = String::new();
    if int.len() >= 4 && int.len() - 3 >= sym.min_grouping {
        let first = int.len() % 3;
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (i + 3 - first).is_multiple_of(3) {
                grouped.push_str(sym.group);
            }
            grouped.push(ch);
        }
    } else {
        grouped = int;
    }
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&digits(&grouped, sym.zero));
    if scale > 0 {
        out.push_str(sym.decimal);
        out.push_str(&digits(
            &format!("{frac:0width$}", width = scale as usize),
            sym.zero,
        ));
    }
    out
}

/// Writes an integer with the locale's digits and grouping.
///
/// ```
/// assert_eq!(aftercare::l10n::format::format_integer("pt-BR", 1234567), "1.234.567");
/// ```
pub fn format_integer(locale: &str, n: i64) -> String {
    format_decimal(locale, n, 0)
}

/// The number of decimals of an ISO 4217 currency (2 unless the table says otherwise).
///
/// ```
/// use aftercare::l10n::format::currency_exponent;
/// assert_eq!(currency_exponent("JPY"), 0);
/// assert_eq!(currency_exponent("KWD"), 3);
/// assert_eq!(currency_exponent("EUR"), 2);
/// ```
pub fn currency_exponent(code: &str) -> u32 {
    match code.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

fn currency_symbol(locale: &str, code: &str) -> Option<&'static str> {
    let loc = resolve_builtin(locale);
    Some(match (loc, code) {
        ("ar", "SAR") => "ر.س",
        ("ar", "AED") => "د.إ",
        ("ar", "KWD") => "د.ك",
        ("ar", "QAR") => "ر.ق",
        ("ar", "BHD") => "د.ب",
        ("ar", "OMR") => "ر.ع",
        ("ar", "JOD") => "د.أ",
        ("ar", "EGP") => "ج.م",
        ("ar", "USD") => "US$",
        ("en", "USD") => "$",
        ("tr", "TRY") => "₺",
        ("tr", "USD") => "$",
        ("pt-BR", "BRL") => "R$",
        ("pt-BR" | "es" | "th", "USD") => "US$",
        ("th", "THB") => "฿",
        ("en", "JPY") => "¥",
        (_, "EUR") => "€",
        (_, "GBP") => "£",
        _ => return None,
    })
}

/// Writes an amount given in minor units of an ISO 4217 currency, with the currency's
/// number of decimals and the locale's symbol and pattern (the code when no symbol is known).
///
/// ```
/// use aftercare::l10n::format::format_money;
/// assert_eq!(format_money("en", 123450, "USD"), "$1,234.50");
/// assert_eq!(format_money("en", 1234, "JPY"), "¥1,234");
/// assert_eq!(format_money("en", 1234500, "KWD"), "KWD\u{a0}1,234.500");
/// assert_eq!(format_money("pt-BR", 123450, "BRL"), "R$\u{a0}1.234,50");
/// ```
pub fn format_money(locale: &str, minor: i64, currency: &str) -> String {
    let code = currency.trim().to_ascii_uppercase();
    let number = format_decimal(locale, minor, currency_exponent(&code));
    let sym = currency_symbol(locale, &code);
    let nbsp = '\u{a0}';
    match (resolve_builtin(locale), sym) {
        ("ar" | "es", Some(s)) => format!("{number}{nbsp}{s}"),
        ("ar" | "es", None) => format!("{number}{nbsp}{code}"),
        ("pt-BR", Some(s)) => format!("{s}{nbsp}{number}"),
        (_, Some(s)) => format!("{s}{number}"),
        (_, None) => format!("{code}{nbsp}{number}"),
    }
}

const MONTHS: [(&str, [&str; 12]); 6] = [
    (
        "en",
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
    ),
    (
        "ar",
        [
            "يناير",
            "فبراير",
            "مارس",
            "أبريل",
            "مايو",
            "يونيو",
            "يوليو",
            "أغسطس",
            "سبتمبر",
            "أكتوبر",
            "نوفمبر",
            "ديسمبر",
        ],
    ),
    (
        "tr",
        [
            "Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül",
            "Ekim", "Kasım", "Aralık",
        ],
    ),
    (
        "th",
        [
            "มกราคม",
            "กุมภาพันธ์",
            "มีนาคม",
            "เมษายน",
            "พฤษภาคม",
            "มิถุนายน",
            "กรกฎาคม",
            "สิงหาคม",
            "กันยายน",
            "ตุลาคม",
            "พฤศจิกายน",
            "ธันวาคม",
        ],
    ),
    (
        "pt-BR",
        [
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ],
    ),
    (
        "es",
        [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
    ),
];

/// The name of a month (1–12) in a locale.
///
/// ```
/// assert_eq!(aftercare::l10n::format::month_name("tr", 11), "Kasım");
/// ```
pub fn month_name(locale: &str, month: u32) -> &'static str {
    let loc = resolve_builtin(locale);
    let table = MONTHS
        .iter()
        .find(|(l, _)| *l == loc)
        .map_or(&MONTHS[0].1, |(_, t)| t);
    table[(month.clamp(1, 12) - 1) as usize]
}

/// Parses an IANA time zone name (`Europe/Istanbul`).
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// Writes the calendar date of an instant as seen in a time zone, in the locale's long form:
/// `November 25, 2026`, `٢٥ نوفمبر ٢٠٢٦`, `25 Kasım 2026`, `25 พฤศจิกายน 2569`,
/// `25 de novembro de 2026`, `25 de noviembre de 2026`.
///
/// ```
/// use aftercare::l10n::format::format_date;
/// let at: chrono::DateTime<chrono::Utc> = "2026-11-25T22:30:00Z".parse().unwrap();
/// // Already the 26th in Istanbul (UTC+3).
/// assert_eq!(format_date("tr", at, chrono_tz::Europe::Istanbul), "26 Kasım 2026");
/// assert_eq!(format_date("en", at, chrono_tz::America::New_York), "November 25, 2026");
/// ```
pub fn format_date(locale: &str, at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let (d, m, y) = (local.day(), local.month(), local.year());
    let month = month_name(locale, m);
    match resolve_builtin(locale) {
        "ar" => digits(&format!("{d} {month} {y}"), '\u{0660}'),
        "th" => format!("{d} {month} {}", y + 543),
        "pt-BR" | "es" => format!("{d} de {month} de {y}"),
        "tr" => format!("{d} {month} {y}"),
        _ => format!("{month} {d}, {y}"),
    }
}

/// Writes the time of day of an instant in a time zone: `2:05 PM` in English, `14:05`
/// elsewhere (`١٤:٠٥` in Arabic).
///
/// ```
/// use aftercare::l10n::format::format_time;
/// let at: chrono::DateTime<chrono::Utc> = "2026-11-25T11:05:00Z".parse().unwrap();
/// assert_eq!(format_time("es", at, chrono_tz::Europe::Madrid), "12:05");
/// assert_eq!(format_time("en", at, chrono_tz::Asia::Bangkok), "6:05\u{a0}PM");
/// ```
pub fn format_time(locale: &str, at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let (h, min) = (local.hour(), local.minute());
    match resolve_builtin(locale) {
        "en" => {
            let (h12, ampm) = match h {
                0 => (12, "AM"),
                1..=11 => (h, "AM"),
                12 => (12, "PM"),
                _ => (h - 12, "PM"),
            };
            format!("{h12}:{min:02}\u{a0}{ampm}")
        }
        "ar" => digits(&format!("{h:02}:{min:02}"), '\u{0660}'),
        _ => format!("{h:02}:{min:02}"),
    }
}
