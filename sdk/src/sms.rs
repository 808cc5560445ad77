//! What an SMS costs: its encoding (GSM-7 with the extension table, else UCS-2) and how many
//! segments it is billed as.
//!
//! A text made only of the GSM 03.38 default alphabet (and its extension table, whose
//! characters take two septets: `^ { } \ [ ~ ] | €` and the form feed) is sent in GSM-7:
//! 160 septets in one segment, 153 per segment once it is split (the concatenation header
//! takes the rest). One character outside it (`ı`, `ş`, `á`, an Arabic or Thai letter, a
//! bidi isolate, an emoji) sends the whole text in UCS-2: 70 UTF-16 code units in one
//! segment, 67 per segment when split. A character never straddles two segments (an
//! escape pair or a surrogate pair moves to the next one whole), as providers split them.
//!
//! ```
//! use aftercare::sms::{Encoding, segments};
//! let s = segments("Your order #1001 has shipped.");
//! assert_eq!((s.encoding, s.segments), (Encoding::Gsm7, 1));
//! assert_eq!(segments("Siparişiniz kargoda").encoding, Encoding::Ucs2);
//! ```

/// How an SMS text is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Encoding {
    /// The GSM 03.38 7-bit default alphabet (with its extension table).
    Gsm7,
    /// UCS-2 (UTF-16 code units).
    Ucs2,
}

impl Encoding {
    /// The stable name (`gsm7`, `ucs2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }
}

/// The size of an SMS text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Segments {
    /// The encoding the text needs.
    pub encoding: Encoding,
    /// Its length in the encoding's units (septets or UTF-16 code units).
    pub units: usize,
    /// How many segments it is sent (and billed) as; 1 for an empty text.
    pub segments: usize,
}

/// The GSM 03.38 default alphabet.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1B}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table (each costs an escape septet and its own).
const EXTENSION: &str = "\u{0C}^{}\\[~]|€";

fn gsm_units(c: char) -> Option<usize> {
    if c != '\u{1B}' && BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Whether a character is in the GSM-7 alphabet or its extension table.
pub fn is_gsm7(c: char) -> bool {
    gsm_units(c).is_some()
}

/// The encoding, length and segment count of an SMS text.
pub fn segments(text: &str) -> Segments {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm_units).collect();
    let (encoding, sizes, single, multi) = match gsm {
        Some(sizes) => (Encoding::Gsm7, sizes, 160, 153),
        None => (
            Encoding::Ucs2,
            text.chars().map(char::len_utf16).collect(),
            70,
            67,
        ),
    };
    let units: usize = sizes.iter().sum();
    if units <= single {
        return Segments {
            encoding,
            units,
            segments: 1,
        };
    }
    let mut count = 1;
    let mut used = 0;
    for size in sizes {
        if used + size > multi {
            count += 1;
            used = 0;
        }
        used += size;
    }
    Segments {
        encoding,
        units,
        segments: count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test vectors of Twilio's message segment calculator
    // (github.com/TwilioDevEd/message-segment-calculator, tests/index.test.js and
    // tests/segments.test.js).
    #[test]
    fn twilio_calculator_vectors() {
        let digits = |n: usize| -> String {
            (0..n)
                .map(|i| char::from(b'0' + ((i + 2) % 10) as u8))
                .collect()
        };
        let one = format!("{{{}", digits(158));
        assert_eq!(
            segments(&one),
            Segments {
                encoding: Encoding::Gsm7,
                units: 160,
                segments: 1
            }
        );
        let two = format!("{{{}", digits(159));
        assert_eq!((segments(&two).units, segments(&two).segments), (161, 2));
        let emoji_one = format!("😜{}", digits(68));
        assert_eq!(
            segments(&emoji_one),
            Segments {
                encoding: Encoding::Ucs2,
                units: 70,
                segments: 1
            }
        );
        let emoji_two = format!("😜{}", digits(69));
        assert_eq!(segments(&emoji_two).segments, 2);
        let three: String = (0..307)
            .map(|i| char::from(b'0' + ((i + 1) % 10) as u8))
            .collect();
        assert_eq!(segments(&three).segments, 3);
        let ucs_three = format!("😜{}", digits(133));
        assert_eq!(segments(&ucs_three).segments, 3);
    }

    #[test]
    fn one_letter_outside_the_alphabet_makes_it_ucs2() {
        let plain = "Tu pedido #1001 ya fue enviado.".to_owned();
        assert_eq!(segments(&plain).encoding, Encoding::Gsm7);
        assert_eq!(segments(&format!("{plain} á")).encoding, Encoding::Ucs2);
        // GSM-7 has é and ñ but not á, ı, ş, ç (only Ç) or the isolates.
        for c in ['é', 'ñ', 'Ç', 'ü', 'à'] {
            assert!(is_gsm7(c), "{c}");
        }
        for c in ['á', 'ı', 'ş', 'ç', 'ã', '\u{2068}', '\u{1B}'] {
            assert!(!is_gsm7(c), "{c:?}");
        }
    }

    #[test]
    fn an_escape_pair_is_never_split() {
        // 152 septets, then "€" (2): 154 > 153 so € opens the second segment.
        let t = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        let s = segments(&t);
        assert_eq!((s.units, s.segments), (164, 2));
        let t = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(segments(&t).segments, 2);
        let t = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(segments(&t).segments, 3);
    }
}
