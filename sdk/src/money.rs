//! Money as platforms send it: decimal text (`"135.49"`, `"1000"`, `"1.500"`) turned into
//! exact minor units of the currency, with ISO 4217's exponents (0 for JPY and KRW, 3 for
//! KWD, BHD and OMR, 4 for CLF), never through floating point. Shared by every platform
//! adapter, so none hard-codes two decimals.

use crate::model::Money;

/// Minor-unit exponent of an ISO 4217 currency code (case-insensitive); 2 unless listed.
///
/// ```
/// use aftercare::money::currency_exponent;
/// assert_eq!(currency_exponent("JPY"), 0);
/// assert_eq!(currency_exponent("kwd"), 3);
/// assert_eq!(currency_exponent("EUR"), 2);
/// ```
pub fn currency_exponent(code: &str) -> u32 {
    // Every listed code has three letters; upper-cased on the stack, without allocating.
    let upper = match code.trim().as_bytes() {
        &[a, b, c] => [
            a.to_ascii_uppercase(),
            b.to_ascii_uppercase(),
            c.to_ascii_uppercase(),
        ],
        _ => return 2,
    };
    match &upper {
        b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG" | b"RWF"
        | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
        b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
        b"CLF" | b"UYW" => 4,
        _ => 2,
    }
}

/// Parses a decimal amount (`"135.49"`, `"-3"`, `"+1.5"`) into minor units of `currency`,
/// exactly. Fraction digits beyond the currency's exponent must be zeros (`"1000.00"` in JPY
/// is 1000; `"1.234"` in USD is refused); anything else (exponents, commas, spaces inside,
/// overflow) is `None`. Surrounding whitespace is ignored.
///
/// ```
/// use aftercare::money::parse_money;
/// assert_eq!(parse_money("135.49", "USD").unwrap().minor_units, 13549);
/// assert_eq!(parse_money("1000.00", "JPY").unwrap().minor_units, 1000);
/// assert_eq!(parse_money("1.5", "KWD").unwrap().minor_units, 1500);
/// assert!(parse_money("1.234", "USD").is_none());
/// ```
pub fn parse_money(amount: &str, currency: &str) -> Option<Money> {
    let exp = currency_exponent(currency);
    let s = amount.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let exp_us = exp as usize;
    let (kept, extra) = if frac.len() > exp_us {
        frac.split_at(exp_us)
    } else {
        (frac, "")
    };
    if extra.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut units: i64 = 0;
    for b in int.bytes().chain(kept.bytes()) {
        units = units.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    for _ in kept.len()..exp_us {
        units = units.checked_mul(10)?;
    }
    Some(Money::new(
        if neg { -units } else { units },
        currency.trim().to_ascii_uppercase(),
    ))
}

/// Minor units from a JSON value a platform sends for money: a string (`"135.49"`), or a
/// number (`135.49`), read from the shortest text that round-trips it (what the platform
/// wrote, for any amount with at most 15 significant digits), never by multiplying a float.
///
/// ```
/// assert_eq!(aftercare::money::parse_money_number(&serde_json::json!(12.5), "USD").unwrap().minor_units, 1250);
/// assert_eq!(aftercare::money::parse_money_number(&serde_json::json!(0.29), "USD").unwrap().minor_units, 29);
/// ```
pub fn parse_money_number(value: &serde_json::Value, currency: &str) -> Option<Money> {
    match value {
        serde_json::Value::String(s) => parse_money(s, currency),
        serde_json::Value::Number(n) => parse_money(&n.to_string(), currency),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exponents_and_edges() {
        for (text, cur, want) in [
            ("0", "USD", Some(0)),
            ("0.01", "USD", Some(1)),
            ("12", "JPY", Some(12)),
            ("12.0", "JPY", Some(12)),
            ("12.5", "JPY", None),
            ("1.234", "KWD", Some(1234)),
            ("1.2345", "KWD", None),
            ("1.2340", "BHD", Some(1234)),
            ("-7.5", "EUR", Some(-750)),
            (" 3.10 ", "TRY", Some(310)),
            ("1e3", "USD", None),
            ("1,000.00", "USD", None),
            ("", "USD", None),
            (".", "USD", None),
            (".5", "USD", Some(50)),
            ("92233720368547758.07", "USD", Some(i64::MAX)),
            ("92233720368547758.08", "USD", None),
        ] {
            assert_eq!(
                parse_money(text, cur).map(|m| m.minor_units),
                want,
                "{text} {cur}"
            );
        }
        assert_eq!(parse_money("1", "sar").unwrap().currency, "SAR");
    }
}
