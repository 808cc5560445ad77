//! Reply parsing, table-driven: every supported script and language, and what must be
//! rejected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aftercare::model::SurveyKind::{self, Csat, Nps};
use aftercare::reply::{ReplyError, parse_score};

#[test]
fn accepted_replies() {
    let cases: &[(&str, SurveyKind, u8, Option<&str>)] = &[
        ("9", Nps, 9, None),
        ("  10 ", Nps, 10, None),
        ("0", Nps, 0, None),
        ("5, it was great!", Csat, 5, Some("it was great!")),
        ("9/10", Nps, 9, None),
        ("9 / 10 fast delivery", Nps, 9, Some("fast delivery")),
        ("8 out of 10", Nps, 8, None),
        ("7 de 10 llegó tarde", Nps, 7, Some("llegó tarde")),
        ("10!", Nps, 10, None),
        ("*9*", Nps, 9, Some("*")),
        // Arabic-Indic and Eastern Arabic-Indic digits.
        ("٩", Nps, 9, None),
        ("١٠", Nps, 10, None),
        ("٣ التوصيل تأخر", Nps, 3, Some("التوصيل تأخر")),
        ("۸", Nps, 8, None),
        ("۱۰", Nps, 10, None),
        // Thai digits and words.
        ("๙", Nps, 9, None),
        ("๑๐", Nps, 10, None),
        ("เก้า", Nps, 9, None),
        ("สิบ", Nps, 10, None),
        ("ห้า ดีมาก", Csat, 5, Some("ดีมาก")),
        // Number words.
        ("nine", Nps, 9, None),
        ("Ten, loved it", Nps, 10, Some("loved it")),
        ("nueve", Nps, 9, None),
        ("cinco", Csat, 5, None),
        ("nove", Nps, 9, None),
        ("três", Csat, 3, None),
        ("dez", Nps, 10, None),
        ("dokuz", Nps, 9, None),
        ("DÖRT", Csat, 4, None),
        ("on", Nps, 10, None),
        ("İKİ", Csat, 2, None),
        ("تسعة", Nps, 9, None),
        ("عشرة", Nps, 10, None),
        ("خمسة شكرا", Csat, 5, Some("شكرا")),
        ("تسعة من عشرة", Nps, 9, None),
        // Bidi marks around a reply typed in an RTL keyboard.
        ("\u{200F}٩", Nps, 9, None),
    ];
    for (text, kind, score, comment) in cases {
        let r = parse_score(text, *kind).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(r.score, *score, "{text:?}");
        assert_eq!(r.comment.as_deref(), *comment, "{text:?}");
    }
}

#[test]
fn rejected_replies() {
    let cases: &[(&str, SurveyKind, ReplyError)] = &[
        ("", Nps, ReplyError::NoScore),
        ("great service", Nps, ReplyError::NoScore),
        ("I'd say 9", Nps, ReplyError::NoScore),
        ("5a", Csat, ReplyError::NoScore),
        ("9.5", Nps, ReplyError::NoScore),
        ("٩٫٥", Nps, ReplyError::NoScore),
        ("55", Nps, ReplyError::OutOfRange(55)),
        ("11", Nps, ReplyError::OutOfRange(11)),
        ("0", Csat, ReplyError::OutOfRange(0)),
        ("6", Csat, ReplyError::OutOfRange(6)),
        ("-3", Nps, ReplyError::NoScore),
        ("only ok", Nps, ReplyError::NoScore),
        ("onbir", Nps, ReplyError::NoScore),
        ("on bir", Nps, ReplyError::NoScore),
        ("birthday", Nps, ReplyError::NoScore),
        ("dose", Nps, ReplyError::NoScore),
        ("เจ็ดสิบ", Nps, ReplyError::NoScore),
        ("สิบเอ็ด", Nps, ReplyError::NoScore),
        ("ثلاثة عشر", Nps, ReplyError::NoScore),
        ("ثلاثين", Nps, ReplyError::NoScore),
        ("one hundred", Nps, ReplyError::NoScore),
        ("STOP", Nps, ReplyError::NoScore),
        (
            "99999999999999999999",
            Nps,
            ReplyError::OutOfRange(u32::MAX),
        ),
    ];
    for (text, kind, err) in cases {
        assert_eq!(parse_score(text, *kind), Err(err.clone()), "{text:?}");
    }
}

/// Two numbers are not a score: which one is meant would be a guess. Each of these was read
/// as its first number before.
#[test]
fn replies_holding_two_numbers_are_not_scores() {
    let cases: &[(&str, SurveyKind)] = &[
        ("1 0", Nps),
        ("3 or 4", Nps),
        ("7-8", Nps),
        ("7 - 8", Nps),
        ("7/8", Nps),
        ("7–8", Nps),
        ("8 o 9", Nps),
        ("8 ou 9", Nps),
        ("8 veya 9", Nps),
        ("10 10", Nps),
        ("4/10", Csat),
        ("9/100", Nps),
        ("9, it took 2 days", Nps),
        // Arabic-Indic, Eastern Arabic-Indic and Thai digits.
        ("٧-٨", Nps),
        ("٣ أو ٤", Nps),
        ("۷ ۸", Nps),
        ("๗ หรือ ๘", Nps),
        ("๗/๘", Nps),
        // A number word offered as an alternative or a range.
        ("three or four", Nps),
        ("3 or four", Nps),
        ("seven to ten", Nps),
        ("seven-eight", Nps),
        ("nueve o diez", Nps),
        ("sete ou oito", Nps),
        ("yedi veya sekiz", Nps),
        ("سبعة أو ثمانية", Nps),
        ("สามหรือสี่", Nps),
        ("เจ็ด ถึง แปด", Nps),
        // The separators of a scale do not hide a second number that is not the scale.
        ("7 de 8", Nps),
        ("3 out of 4", Csat),
    ];
    for (text, kind) in cases {
        assert_eq!(
            parse_score(text, *kind),
            Err(ReplyError::SeveralNumbers),
            "{text:?}"
        );
    }
}

/// One number stays one, and the survey's own scale after it is not a second answer.
#[test]
fn one_number_and_its_scale_are_a_score() {
    let cases: &[(&str, SurveyKind, u8, Option<&str>)] = &[
        ("10", Nps, 10, None),
        ("١٠", Nps, 10, None),
        ("๑๐", Nps, 10, None),
        ("9/10", Nps, 9, None),
        ("10/10!", Nps, 10, None),
        ("9 Out Of 10", Nps, 9, None),
        ("9 out of ten", Nps, 9, None),
        ("4/5", Csat, 4, None),
        ("4 out of 5, good", Csat, 4, Some("good")),
        ("٩ من ١٠", Nps, 9, None),
        ("๙ จาก ๑๐", Nps, 9, None),
        ("9 de dez", Nps, 9, None),
        // Number words inside a comment are not alternatives.
        ("9, una maravilla", Nps, 9, Some("una maravilla")),
        (
            "10 - one of the best shops",
            Nps,
            10,
            Some("one of the best shops"),
        ),
        ("nine or so", Nps, 9, Some("or so")),
        ("9 on time", Nps, 9, Some("on time")),
    ];
    for (text, kind, score, comment) in cases {
        let r = parse_score(text, *kind).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(
            (r.score, r.comment.as_deref()),
            (*score, *comment),
            "{text:?}"
        );
    }
}
