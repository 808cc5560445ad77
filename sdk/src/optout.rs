//! Opt-out, opt-in and help keywords in customer replies, in the six supported languages.
//!
//! [`classify`] tells whether a reply is a keyword; [`detect`] also says which word matched
//! and in which language, so the confirmation can be written in it.
//!
//! # Keywords
//!
//! | | words (any case, any surrounding punctuation) |
//! |---|---|
//! | opt-out | `STOP`, `STOPALL`, `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`, `REVOKE`, `OPTOUT`, `OPT OUT`/`OPT-OUT` (the carrier and Twilio defaults, and the FCC's seven words); Arabic `إلغاء`/`الغاء`, `إيقاف`, `توقف`, `إلغاء الاشتراك`, `ستوب`; Turkish `DUR`, `DURDUR`, `İPTAL`/`IPTAL`, `ABONELİKTEN ÇIK`, `ABONELİĞİ İPTAL ET`; Thai `หยุด`, `ยกเลิก`, `เลิกรับ`; Portuguese `PARAR`, `SAIR`, `CANCELAR`, `DESCADASTRAR`; Spanish `BAJA`, `ALTO`, `CANCELAR`, `PARAR`, `DARME DE BAJA` |
//! | opt-in | `START`, `UNSTOP`, `YES`; Arabic `ابدأ`; Turkish `BAŞLA`; Thai `เริ่ม` |
//! | help | `HELP`, `INFO`; Arabic `مساعدة`; Turkish `YARDIM`; Thai `ช่วยเหลือ`; Portuguese `AJUDA`; Spanish `AYUDA` |
//!
//! # Matching rules
//!
//! 1. The text is normalised: trimmed; lower-cased with the Turkish `İ`/`I`/`ı` all folded to
//!    `i`; Latin diacritics folded (`ç`→`c`, `ş`→`s`, `ã`→`a`…); Arabic hamza forms of alef
//!    folded to `ا`, `ى` to `ي`, diacritics and tatweel removed; punctuation, emoji and
//!    invisible characters become spaces.
//! 2. **Whole message**: the normalised message equals a keyword. This is the only rule for
//!    opt-in and help (`YES` counts only alone).
//! 3. **Polite opt-out**: after dropping courtesy words (`please`, `thanks`, `lütfen`,
//!    `por favor`, `من فضلك`, `obrigado`, `gracias`…, and the Thai particles `ครับ`/`ค่ะ`/`นะ`
//!    at the end), the rest equals an opt-out keyword (`Stop please!`, `หยุดค่ะ`).
//! 4. **Short request** (conservative, opt-out only): at most five words that *start* with an
//!    unambiguous stop word (`stop`, `stopall`, `unsubscribe`, `optout`, `opt out`, `revoke`,
//!    `quit`, `إيقاف`, `توقف`, `ستوب`, `dur`, `durdur`, `parar`, `sair`, `baja`), or at most three
//!    words that *end* with one (`just stop`, `want to unsubscribe`), and no negation (`don't`,
//!    `not`, `never`, `no`, `não`, `değil`, `لا`…). Thai, written without spaces, counts when
//!    the message starts with `หยุด` and has at most 20 characters (`หยุดส่งข้อความ`).
//!    Words that also mean "cancel my order" (`cancel`, `iptal`, `إلغاء`, `ยกเลิก`,
//!    `cancelar`) count only as whole messages, so `cancel my order` is not an opt-out.
//!
//! Never keywords: survey scores (`9`, `٩`, `10`), and ordinary sentences that use a stop
//! word in passing (`I couldn't stop smiling`, `please don't stop the updates`).
//!
//! ```
//! use aftercare::optout::{classify, Keyword};
//! assert_eq!(classify("  Stop! "), Some(Keyword::OptOut));
//! assert_eq!(classify("İPTAL"), Some(Keyword::OptOut));
//! assert_eq!(classify("إلغاء الاشتراك"), Some(Keyword::OptOut));
//! assert_eq!(classify("yes"), Some(Keyword::OptIn));
//! assert_eq!(classify("9"), None);
//! assert_eq!(classify("I couldn't stop smiling, thanks!"), None);
//! ```

/// What a keyword reply asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Keyword {
    /// Stop sending me messages.
    OptOut,
    /// Start sending me messages again.
    OptIn,
    /// Tell me who you are and how to stop.
    Help,
}

/// A keyword found in a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeywordMatch {
    /// What it asks for.
    pub keyword: Keyword,
    /// The keyword in its canonical written form (`STOP`, `إلغاء`, `İPTAL`), for records
    /// such as the consent source `reply:STOP`.
    pub word: &'static str,
    /// The language the keyword belongs to, when it belongs to only one (`ar`, `tr`, `th`,
    /// `pt`, `es`; `None` for the English carrier keywords understood everywhere and for
    /// words shared by Portuguese and Spanish).
    pub language: Option<&'static str>,
}

/// (normalised form, canonical form, language)
type Entry = (&'static str, &'static str, Option<&'static str>);

const OPT_OUT: &[Entry] = &[
    ("stop", "STOP", None),
    ("stopall", "STOPALL", None),
    ("stop all", "STOPALL", None),
    ("unsubscribe", "UNSUBSCRIBE", None),
    ("cancel", "CANCEL", None),
    ("end", "END", None),
    ("quit", "QUIT", None),
    ("revoke", "REVOKE", None),
    ("optout", "OPTOUT", None),
    ("opt out", "OPT OUT", None),
    ("الغاء", "إلغاء", Some("ar")),
    ("ايقاف", "إيقاف", Some("ar")),
    ("توقف", "توقف", Some("ar")),
    ("الغاء الاشتراك", "إلغاء الاشتراك", Some("ar")),
    ("ستوب", "ستوب", Some("ar")),
    ("dur", "DUR", Some("tr")),
    ("durdur", "DURDUR", Some("tr")),
    ("iptal", "İPTAL", Some("tr")),
    ("abonelikten cik", "ABONELİKTEN ÇIK", Some("tr")),
    ("aboneligi iptal et", "ABONELİĞİ İPTAL ET", Some("tr")),
    ("หยุด", "หยุด", Some("th")),
    ("ยกเลิก", "ยกเลิก", Some("th")),
    ("เลิกรับ", "เลิกรับ", Some("th")),
    ("parar", "PARAR", None),
    ("sair", "SAIR", Some("pt")),
    ("cancelar", "CANCELAR", None),
    ("descadastrar", "DESCADASTRAR", Some("pt")),
    ("baja", "BAJA", Some("es")),
    ("alto", "ALTO", Some("es")),
    ("darme de baja", "DARME DE BAJA", Some("es")),
];

const OPT_IN: &[Entry] = &[
    ("start", "START", None),
    ("unstop", "UNSTOP", None),
    ("yes", "YES", None),
    ("ابدا", "ابدأ", Some("ar")),
    ("basla", "BAŞLA", Some("tr")),
    ("เริ่ม", "เริ่ม", Some("th")),
];

const HELP: &[Entry] = &[
    ("help", "HELP", None),
    ("info", "INFO", None),
    ("مساعدة", "مساعدة", Some("ar")),
    ("yardim", "YARDIM", Some("tr")),
    ("ช่วยเหลือ", "ช่วยเหลือ", Some("th")),
    ("ajuda", "AJUDA", Some("pt")),
    ("ayuda", "AYUDA", Some("es")),
];

/// Opt-out words unambiguous enough to count at the start (or end) of a short message.
const STRONG: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "optout",
    "opt out",
    "revoke",
    "quit",
    "ايقاف",
    "توقف",
    "ستوب",
    "dur",
    "durdur",
    "parar",
    "sair",
    "baja",
];

const COURTESY: &[&str] = &[
    "please",
    "pls",
    "plz",
    "thanks",
    "thank",
    "you",
    "thx",
    "lutfen",
    "tesekkurler",
    "por",
    "favor",
    "porfavor",
    "gracias",
    "obrigado",
    "obrigada",
    "من",
    "فضلك",
    "لو",
    "سمحت",
    "رجاء",
    "شكرا",
];

const NEGATIONS: &[&str] = &[
    "don",
    "dont",
    "t",
    "not",
    "never",
    "no",
    "nao",
    "nunca",
    "degil",
    "deme",
    "etme",
    "لا",
    "ما",
    "لم",
    "ไม่",
    "ni",
];

const THAI_PARTICLES: &[&str] = &["ครับ", "ค่ะ", "คะ", "นะ", "จ้ะ", "จ้า", "ด้วย"];

fn fold(c: char) -> Option<char> {
    Some(match c {
        'İ' | 'I' | 'ı' | 'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ç' | 'Ç' => 'c',
        'ş' | 'Ş' => 's',
        'ğ' | 'Ğ' => 'g',
        'ö' | 'Ö' | 'ó' | 'ò' | 'ô' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Õ' => 'o',
        'ü' | 'Ü' | 'ú' | 'ù' | 'û' | 'Ú' | 'Ù' | 'Û' => 'u',
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'Á' | 'À' | 'Â' | 'Ã' | 'Ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'ñ' | 'Ñ' => 'n',
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ى' => 'ي',
        // Arabic diacritics and tatweel, combining dot above (from a lower-cased İ),
        // zero-width and bidi formatting characters: dropped.
        '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{0640}'
        | '\u{0307}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' => return None,
        c => c,
    })
}

/// The normalised form used for matching (see the module docs).
///
/// ```
/// assert_eq!(aftercare::optout::normalize("  ¡Darme de BAJA!! "), "darme de baja");
/// assert_eq!(aftercare::optout::normalize("ABONELİKTEN ÇIK."), "abonelikten cik");
/// ```
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let Some(c) = fold(c) else { continue };
        let keep = c.is_alphanumeric() || ('\u{0E00}'..='\u{0E7F}').contains(&c);
        if keep {
            for l in c.to_lowercase() {
                if let Some(l) = fold(l) {
                    out.push(l);
                }
            }
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn find(table: &[Entry], s: &str) -> Option<Entry> {
    table.iter().find(|(n, _, _)| *n == s).copied()
}

fn hit(keyword: Keyword, e: Entry) -> KeywordMatch {
    KeywordMatch {
        keyword,
        word: e.1,
        language: e.2,
    }
}

fn strip_thai_particles(s: &str) -> &str {
    let mut s = s;
    loop {
        let before = s;
        for p in THAI_PARTICLES {
            if let Some(rest) = s.strip_suffix(p)
                && !rest.is_empty()
            {
                s = rest;
            }
        }
        if s == before {
            return s;
        }
    }
}

/// Finds a keyword in a reply (see the module docs for the rules).
///
/// ```
/// use aftercare::optout::{detect, Keyword};
/// let m = detect("إيقاف الرسائل من فضلك").unwrap();
/// assert_eq!((m.keyword, m.word, m.language), (Keyword::OptOut, "إيقاف", Some("ar")));
/// ```
pub fn detect(text: &str) -> Option<KeywordMatch> {
    let norm = normalize(text);
    if norm.is_empty() {
        return None;
    }
    // 2. whole message
    if let Some(e) = find(OPT_OUT, &norm) {
        return Some(hit(Keyword::OptOut, e));
    }
    if let Some(e) = find(OPT_IN, &norm) {
        return Some(hit(Keyword::OptIn, e));
    }
    if let Some(e) = find(HELP, &norm) {
        return Some(hit(Keyword::Help, e));
    }
    // 3. courtesy words around an opt-out keyword
    let tokens: Vec<&str> = norm.split(' ').collect();
    let mut core: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|t| !COURTESY.contains(t))
        .collect();
    if core.is_empty() {
        return None;
    }
    if let Some(last) = core.last_mut() {
        *last = strip_thai_particles(last);
    }
    let joined = core.join(" ");
    if let Some(e) = find(OPT_OUT, &joined) {
        return Some(hit(Keyword::OptOut, e));
    }
    // 4. short requests starting or ending with an unambiguous stop word
    if core.iter().any(|t| NEGATIONS.contains(t)) {
        return None;
    }
    let strong = |s: &str| STRONG.contains(&s).then(|| find(OPT_OUT, s)).flatten();
    if core.len() <= 5 {
        let first_two = core.get(..2).map(|w| w.join(" "));
        if let Some(e) = first_two
            .as_deref()
            .and_then(strong)
            .or_else(|| strong(core[0]))
        {
            return Some(hit(Keyword::OptOut, e));
        }
    }
    if core.len() <= 3 {
        let n = core.len();
        let last_two = (n >= 2).then(|| core[n - 2..].join(" "));
        if let Some(e) = last_two
            .as_deref()
            .and_then(strong)
            .or_else(|| strong(core[n - 1]))
        {
            return Some(hit(Keyword::OptOut, e));
        }
    }
    if core.len() == 1 && core[0].starts_with("หยุด") && core[0].chars().count() <= 20 {
        return find(OPT_OUT, "หยุด").map(|e| hit(Keyword::OptOut, e));
    }
    None
}

/// Whether a reply is an opt-out, opt-in or help keyword.
pub fn classify(text: &str) -> Option<Keyword> {
    detect(text).map(|m| m.keyword)
}

/// The `OutboundMessage::meta` key that marks the one confirmation of an opt-out: its value
/// is the consent record's source (`reply:STOP`). The dispatcher's consent policy lets a
/// *transactional* message carrying it through while the decision in force is an opt-out of
/// the same origin (the part before the first `:`, so a second `STOP` or `إلغاء` the same
/// day does not block the confirmation of the first), and skips it otherwise (for instance
/// once the provider reports the number as unreachable, `provider:21610`).
pub const META_CONFIRMS_OPT_OUT: &str = "confirms_opt_out";

/// Whether `message` is the confirmation of an opt-out whose consent source is `source`
/// (see [`META_CONFIRMS_OPT_OUT`]).
///
/// ```
/// use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
/// use aftercare::optout::{confirms, META_CONFIRMS_OPT_OUT};
/// let mut m = OutboundMessage::new(ChannelKind::Sms, "+905321234567", Purpose::Transactional, "…");
/// assert!(!confirms(&m, "reply:STOP"));
/// m.meta.insert(META_CONFIRMS_OPT_OUT.into(), "reply:DUR".into());
/// assert!(confirms(&m, "reply:STOP"));
/// assert!(!confirms(&m, "provider:21610"));
/// ```
pub fn confirms(message: &crate::model::OutboundMessage, source: &str) -> bool {
    let origin = |s: &str| s.split(':').next().unwrap_or_default().to_owned();
    message.purpose == crate::model::Purpose::Transactional
        && message
            .meta
            .get(META_CONFIRMS_OPT_OUT)
            .is_some_and(|v| v.contains(':') && origin(v) == origin(source))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keywords_table() {
        use Keyword::*;
        let cases: &[(&str, Option<Keyword>)] = &[
            // carrier / Twilio / FCC words
            ("STOP", Some(OptOut)),
            ("stop", Some(OptOut)),
            ("  Stop.  ", Some(OptOut)),
            ("STOP!!!", Some(OptOut)),
            ("\"stop\"", Some(OptOut)),
            ("STOPALL", Some(OptOut)),
            ("Stop all", Some(OptOut)),
            ("UNSUBSCRIBE", Some(OptOut)),
            ("Cancel", Some(OptOut)),
            ("END", Some(OptOut)),
            ("quit", Some(OptOut)),
            ("REVOKE", Some(OptOut)),
            ("OPTOUT", Some(OptOut)),
            ("OPT OUT", Some(OptOut)),
            ("opt-out", Some(OptOut)),
            ("Opt_Out", Some(OptOut)),
            ("stop please", Some(OptOut)),
            ("Please stop!", Some(OptOut)),
            ("STOP texting me", Some(OptOut)),
            ("Stop sending me messages", Some(OptOut)),
            ("unsubscribe me please", Some(OptOut)),
            ("just stop", Some(OptOut)),
            ("want to unsubscribe", Some(OptOut)),
            ("Stop 🙏", Some(OptOut)),
            // Arabic
            ("إلغاء", Some(OptOut)),
            ("الغاء", Some(OptOut)),
            ("إيقاف", Some(OptOut)),
            ("توقف", Some(OptOut)),
            ("إلغاء الاشتراك", Some(OptOut)),
            ("الغاء الاشتراك.", Some(OptOut)),
            ("إلغـاء", Some(OptOut)),
            ("إِلْغَاء", Some(OptOut)),
            ("ستوب", Some(OptOut)),
            ("إيقاف الرسائل من فضلك", Some(OptOut)),
            ("توقف!", Some(OptOut)),
            // Turkish, with dotted and dotless I in every spelling
            ("DUR", Some(OptOut)),
            ("dur", Some(OptOut)),
            ("İPTAL", Some(OptOut)),
            ("IPTAL", Some(OptOut)),
            ("iptal", Some(OptOut)),
            ("ıptal", Some(OptOut)),
            ("ABONELİKTEN ÇIK", Some(OptOut)),
            ("Abonelikten çık", Some(OptOut)),
            ("abonelikten cik", Some(OptOut)),
            ("DUR lütfen", Some(OptOut)),
            ("Aboneliği iptal et", Some(OptOut)),
            // Thai
            ("หยุด", Some(OptOut)),
            ("ยกเลิก", Some(OptOut)),
            ("หยุดค่ะ", Some(OptOut)),
            ("หยุดครับ", Some(OptOut)),
            ("หยุดส่งข้อความ", Some(OptOut)),
            ("เลิกรับ", Some(OptOut)),
            // Portuguese and Spanish
            ("PARAR", Some(OptOut)),
            ("Sair", Some(OptOut)),
            ("CANCELAR", Some(OptOut)),
            ("descadastrar", Some(OptOut)),
            ("sair da lista", Some(OptOut)),
            ("BAJA", Some(OptOut)),
            ("Baja por favor", Some(OptOut)),
            ("ALTO", Some(OptOut)),
            ("¡Darme de baja!", Some(OptOut)),
            ("parar, obrigado", Some(OptOut)),
            // opt-in, only whole
            ("START", Some(OptIn)),
            ("unstop", Some(OptIn)),
            ("Yes", Some(OptIn)),
            ("YES!", Some(OptIn)),
            ("ابدأ", Some(OptIn)),
            ("BAŞLA", Some(OptIn)),
            ("basla", Some(OptIn)),
            ("เริ่ม", Some(OptIn)),
            // help
            ("HELP", Some(Help)),
            ("info", Some(Help)),
            ("Help?", Some(Help)),
            ("مساعدة", Some(Help)),
            ("YARDIM", Some(Help)),
            ("ช่วยเหลือ", Some(Help)),
            ("Ajuda", Some(Help)),
            ("ayuda", Some(Help)),
            // ---- must NOT match
            ("9", None),
            ("٩", None),
            ("10", None),
            ("0", None),
            ("", None),
            ("   ", None),
            ("!!!", None),
            ("I couldn't stop smiling, thanks!", None),
            ("Please don't stop the updates", None),
            ("dont stop", None),
            ("Never stop", None),
            ("cancel my order", None),
            ("I want to cancel my order please", None),
            ("Can I cancel?", None),
            ("When does the delivery end?", None),
            ("the end", None),
            ("yes it arrived, thanks", None),
            ("yes please", None),
            ("Yesterday", None),
            ("stopped working after a day", None),
            ("Bus stop was the address", None),
            ("help me track my order", None),
            ("siparişi iptal etmek istiyorum", None),
            ("Durum nedir?", None),
            ("إلغاء الطلب", None),
            ("لا توقف", None),
            ("ยกเลิกคำสั่งซื้อ", None),
            ("não parar", None),
            ("quiero cancelar mi pedido", None),
            ("El paquete llegó alto y claro", None),
            ("Great service, 10/10", None),
            ("The store is great, I will never unsubscribe", None),
        ];
        for (text, want) in cases {
            assert_eq!(classify(text), *want, "{text:?}");
        }
    }

    #[test]
    fn match_details() {
        let m = detect("İptal").unwrap();
        assert_eq!((m.word, m.language), ("İPTAL", Some("tr")));
        let m = detect("stop!").unwrap();
        assert_eq!((m.word, m.language), ("STOP", None));
        let m = detect("หยุดครับ").unwrap();
        assert_eq!((m.word, m.language), ("หยุด", Some("th")));
        let m = detect("sair").unwrap();
        assert_eq!(m.language, Some("pt"));
        let m = detect("parar").unwrap();
        assert_eq!(m.language, None, "shared by pt and es");
    }
}
