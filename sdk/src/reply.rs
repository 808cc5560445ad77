//! Reading a survey score out of a reply message, in every supported script and language.
//!
//! Accepted: ASCII digits, Arabic-Indic (`٠`-`٩`), Eastern Arabic-Indic (`۰`-`۹`) and Thai
//! (`๐`-`๙`) digits; number words in English, Arabic, Turkish, Thai, Portuguese and Spanish;
//! `9/10`-style answers. A reply counts when it *begins* with the score, followed by the end,
//! a space or a symbol: `"5, it was great!"` is 5 with the comment `"it was great!"`, while
//! `"5a"`, `"55"` and `"I'd say 9"` are not scores (the flow re-asks once). Scores outside
//! the survey's range are refused.
//!
//! **A reply holding a second number is not a score** ([`ReplyError::SeveralNumbers`]): which
//! number is meant would be a guess, and a wrong score is worse than none (the flow asks once
//! for one number and keeps the reply as a comment). What counts as a second number:
//! - any digit, in any script, after the score: `"1 0"`, `"3 or 4"`, `"7-8"`, `"7/8"`,
//!   `"٧-٨"`, `"๗ หรือ ๘"`, and also `"9, it took 2 days"` (digits in a comment are not told
//!   apart from a second answer; the customer is asked once, and the text is kept);
//! - a number word offered as an alternative or a range, after `or`, `to`, `o`, `ou`, `até`,
//!   `hasta`, `veya`, `ya da`, `ile`, `أو`, `إلى`, `หรือ`, `ถึง` or a dash or slash:
//!   `"three or four"`, `"7 to ten"`, `"สามหรือสี่"`. A number word inside a comment is not
//!   (`"9, una maravilla"` is 9: `una` is also "a").
//!
//! One number stays one: `"10"` is ten (`"1 0"` is two), and a scale after the score is not a
//! second answer when it is the survey's own maximum: `"9/10"`, `"9 out of 10"`, `"9 de 10"`,
//! `"٩ من ١٠"` and `"๙ จาก ๑๐"` are 9 on an NPS survey, `"4/5"` is 4 on a CSAT one. Another
//! scale (`"4/10"` on a 1-5 survey, `"7/8"`) is two numbers. A number repeated (`"10 10"`)
//! counts as two as well: simple to explain, and asked about once.

use crate::model::SurveyKind;

/// A score read from a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParsedReply {
    /// The score.
    pub score: u8,
    /// What followed the score, trimmed, if anything.
    pub comment: Option<String>,
}

/// Why a reply is not a score.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// No score at the start of the reply.
    #[error("the reply does not start with a score")]
    NoScore,
    /// A number outside the survey's scale.
    #[error("{0} is outside the scale")]
    OutOfRange(u32),
    /// The reply holds more than one number (`"3 or 4"`, `"1 0"`, `"7-8"`): which one is the
    /// score would be a guess.
    #[error("the reply holds more than one number")]
    SeveralNumbers,
}

fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        '\u{0E50}'..='\u{0E59}' => Some(c as u32 - 0x0E50),
        '\u{FF10}'..='\u{FF19}' => Some(c as u32 - 0xFF10),
        _ => None,
    }
}

/// Number words, longest first within a language so prefixes do not shadow longer words.
const WORDS: &[(&str, u32)] = &[
    // English
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    // Spanish
    ("cero", 0),
    ("uno", 1),
    ("una", 1),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("siete", 7),
    ("ocho", 8),
    ("nueve", 9),
    ("diez", 10),
    // Portuguese
    ("um", 1),
    ("dois", 2),
    ("duas", 2),
    ("três", 3),
    ("quatro", 4),
    ("sete", 7),
    ("oito", 8),
    ("nove", 9),
    ("dez", 10),
    // Turkish
    ("sıfır", 0),
    ("sifir", 0),
    ("bir", 1),
    ("iki", 2),
    ("üç", 3),
    ("uc", 3),
    ("dört", 4),
    ("dort", 4),
    ("beş", 5),
    ("bes", 5),
    ("altı", 6),
    ("alti", 6),
    ("yedi", 7),
    ("sekiz", 8),
    ("dokuz", 9),
    ("on", 10),
    // Arabic (with and without hamza/taa marbuta variants)
    ("صفر", 0),
    ("واحد", 1),
    ("واحدة", 1),
    ("اثنان", 2),
    ("اثنين", 2),
    ("إثنين", 2),
    ("اثنتان", 2),
    ("ثلاثة", 3),
    ("ثلاث", 3),
    ("أربعة", 4),
    ("اربعة", 4),
    ("أربع", 4),
    ("اربع", 4),
    ("خمسة", 5),
    ("خمس", 5),
    ("ستة", 6),
    ("ست", 6),
    ("سبعة", 7),
    ("سبع", 7),
    ("ثمانية", 8),
    ("ثمان", 8),
    ("تسعة", 9),
    ("تسع", 9),
    ("عشرة", 10),
    ("عشر", 10),
    // Thai
    ("ศูนย์", 0),
    ("หนึ่ง", 1),
    ("สอง", 2),
    ("สาม", 3),
    ("สี่", 4),
    ("ห้า", 5),
    ("หก", 6),
    ("เจ็ด", 7),
    ("แปด", 8),
    ("เก้า", 9),
    ("สิบ", 10),
];

/// Words that continue a number (tens, hundreds...): after a number word they make a larger
/// number, so the reply is not a score.
const CONTINUATIONS: &[&str] = &[
    "hundred",
    "thousand",
    "cien",
    "ciento",
    "mil",
    "cem",
    "cento",
    "yüz",
    "yuz",
    "bin",
    "عشر",
    "عشرة",
    "مائة",
    "مئة",
    "ألف",
    "เอ็ด",
    "สิบ",
    "ร้อย",
    "พัน",
    "หมื่น",
    "แสน",
    "ล้าน",
];

fn is_thai(c: char) -> bool {
    ('\u{0E00}'..='\u{0E7F}').contains(&c)
}

/// Lower-cases, with the Turkish dotted capital İ kept as `i`.
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            'İ' => vec!['i'],
            c => c.to_lowercase().collect(),
        })
        .collect()
}

/// The number at the start of `s` and the rest, if `s` starts with one.
fn leading_number(s: &str) -> Option<(u32, &str)> {
    let digits: String = s
        .chars()
        .take_while(|c| digit_value(*c).is_some())
        .collect();
    if !digits.is_empty() {
        let mut n: u32 = 0;
        for c in digits.chars() {
            n = n.saturating_mul(10).saturating_add(digit_value(c)?);
        }
        return Some((n, &s[digits.len()..]));
    }
    let folded = fold(s);
    // Match words on the folded text, then map the length back onto the original.
    let mut best: Option<(usize, u32)> = None;
    for (w, v) in WORDS {
        if folded.starts_with(w) && best.is_none_or(|(len, _)| w.chars().count() > len) {
            best = Some((w.chars().count(), *v));
        }
    }
    let (chars, value) = best?;
    let byte_len: usize = s.chars().take(chars).map(char::len_utf8).sum();
    let rest = &s[byte_len..];
    // A number word followed by another number word or a continuation is a compound
    // (Thai เจ็ดสิบ = 70 written together; Turkish "on bir" = 11; Arabic "ثلاثة عشر" = 13).
    let next = if s.starts_with(is_thai) {
        rest
    } else {
        rest.trim_start()
    };
    if next.len() < rest.len() || s.starts_with(is_thai) {
        let folded_next = fold(next);
        let next_word: String = folded_next
            .chars()
            .take_while(|c| c.is_alphabetic())
            .collect();
        let compound = WORDS.iter().any(|(w, _)| {
            if s.starts_with(is_thai) {
                folded_next.starts_with(w)
            } else {
                next_word == *w
            }
        }) || CONTINUATIONS.iter().any(|w| {
            if s.starts_with(is_thai) {
                folded_next.starts_with(w)
            } else {
                next_word == *w
            }
        });
        if compound {
            return None;
        }
    }
    Some((value, rest))
}

/// `s` without `prefix`, compared case-insensitively (`Out of`), if it starts with it.
fn strip_prefix_folded<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let n = prefix.chars().count();
    let head_len: usize = s.chars().take(n).map(char::len_utf8).sum();
    (fold(&s[..head_len]) == prefix).then(|| &s[head_len..])
}

/// Words offering an alternative or a range ("three *or* four", "7 *to* ten"), folded. Words
/// that also start ordinary comments ("a", "y", "and") are left out: "9, y una sonrisa".
const ALTERNATIVES: &[&str] = &[
    "or",
    "to",
    "o",
    "ó",
    "ou",
    "até",
    "hasta",
    "veya",
    "ya da",
    "yahut",
    "ile",
    "أو",
    "او",
    "إلى",
    "الى",
    "หรือ",
    "ถึง",
];

/// Whether what follows a score holds another number: any digit in any script, or a number
/// word after an alternative ("or", "หรือ"...), or right after a dash or slash ("seven-eight";
/// not "10 - one of the best", where the dash starts a comment).
fn holds_another_number(rest: &str) -> bool {
    if rest.chars().any(char::is_numeric) {
        return true;
    }
    let t = rest.trim_start();
    let tight = t
        .strip_prefix(['-', '–', '—', '/', '~'])
        .filter(|after| !after.starts_with(char::is_whitespace));
    let mut candidate = tight;
    if candidate.is_none() {
        for alt in ALTERNATIVES {
            if let Some(after) = strip_prefix_folded(t, alt)
                && (alt.starts_with(is_thai) || after.starts_with(char::is_whitespace))
            {
                candidate = Some(after.trim_start());
                break;
            }
        }
    }
    let Some(candidate) = candidate else {
        return false;
    };
    let folded = fold(candidate);
    WORDS.iter().any(|(w, _)| {
        folded.strip_prefix(w).is_some_and(|after| {
            w.starts_with(is_thai) || !after.starts_with(char::is_alphanumeric)
        })
    })
}

/// Reads a score from a reply to a survey of `kind`.
///
/// ```
/// use aftercare::reply::{parse_score, ParsedReply};
/// use aftercare::model::SurveyKind;
/// assert_eq!(parse_score("9/10 fast delivery", SurveyKind::Nps).unwrap().score, 9);
/// assert_eq!(parse_score("٩", SurveyKind::Nps).unwrap().score, 9);
/// assert_eq!(parse_score("เก้า", SurveyKind::Nps).unwrap().score, 9);
/// assert!(parse_score("55", SurveyKind::Nps).is_err());
/// ```
pub fn parse_score(text: &str, kind: SurveyKind) -> Result<ParsedReply, ReplyError> {
    let t = text.trim_start_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\u{200E}' | '\u{200F}' | '\u{2066}'..='\u{2069}' | '"' | '\'' | '*'
            )
    });
    let (n, rest) = leading_number(t).ok_or(ReplyError::NoScore)?;
    // What follows must not continue a word or a number: "5a", "55", "5.5" are refused.
    let mut rest_chars = rest.chars();
    match rest_chars.next() {
        None => {}
        Some(c) if c.is_whitespace() => {}
        Some('.') | Some(',') | Some('٫') | Some('٬')
            if rest_chars.next().is_some_and(|d| digit_value(d).is_some()) =>
        {
            return Err(ReplyError::NoScore);
        }
        Some(c) if c.is_alphanumeric() && !is_thai(c) => return Err(ReplyError::NoScore),
        Some(_) => {}
    }
    // "9/10", "9 / 10", "9 out of 10", "9 de 10", "٩ من ١٠"...: the scale, when it is the
    // survey's own maximum, is not a second number.
    let range = kind.range();
    let mut rest = rest.trim_start();
    for sep in ["/", "out of", "de", "من", "จาก"] {
        if let Some(r) = strip_prefix_folded(rest, sep)
            && let Some((max, after)) = leading_number(r.trim_start())
        {
            if max == u32::from(*range.end()) {
                rest = after;
            }
            break;
        }
    }
    if holds_another_number(rest) {
        return Err(ReplyError::SeveralNumbers);
    }
    let score = u8::try_from(n)
        .ok()
        .filter(|s| range.contains(s))
        .ok_or(ReplyError::OutOfRange(n))?;
    let comment = rest
        .trim_start_matches(|c: char| {
            c.is_whitespace()
                || matches!(c, ',' | '.' | '-' | '–' | '—' | ':' | ';' | '!' | '،' | '؛')
        })
        .trim();
    Ok(ParsedReply {
        score,
        comment: (!comment.is_empty()).then(|| comment.to_owned()),
    })
}
