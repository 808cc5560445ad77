//! The part of an email reply the customer wrote: quoted history and signatures removed,
//! so that "9" above a quoted survey (which holds the numbers 0 to 10) is read as 9.
//!
//! Cut at the first line that starts the quoted history or a signature:
//! - a line quoted with `>`;
//! - a reply header in the six languages of the catalogs: "On … wrote:" (en), "El …
//!   escribió:" (es), "Em … escreveu:" (pt-BR), "… tarihinde … yazdı:" (tr), "… كتب …:"
//!   (ar), "… เขียนว่า:" (th), also wrapped over two lines as Gmail does;
//! - a forwarded or original-message banner (`-----Original Message-----`, `-----Mensaje
//!   original-----`, `-----Mensagem original-----`, `-----Orijinal İleti-----`,
//!   `-----الرسالة الأصلية-----`, `-----ข้อความต้นฉบับ-----`), Outlook's rule of
//!   underscores, and a header block line `From:` / `De:` / `Kimden:` / `من:` / `จาก:`
//!   directly followed by more header lines;
//! - the signature delimiter `-- ` and the mobile footers ("Sent from my iPhone", "Enviado
//!   desde mi", "Enviado do meu", "… gönderildi", "أُرسلت من", "ส่งจาก").

/// The customer's own text of an email reply (trimmed; may be empty).
///
/// ```
/// use aftercare::email_reply::visible_reply;
/// let body = "٩\n\nفي الأحد، ٧ ديسمبر ٢٠٢٦، كتب المتجر <shop@example.com>:\n> كيف تقيّم تجربتك من 0 إلى 10؟";
/// assert_eq!(visible_reply(body), "٩");
/// assert_eq!(visible_reply("8 great\n\nOn Mon, Dec 7, 2026 at 9:00 AM Shop <s@x.com> wrote:\n> 0 1 2"), "8 great");
/// ```
pub fn visible_reply(body: &str) -> String {
    let text = body.replace("\r\n", "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut end = lines.len();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_matches(|c: char| c.is_whitespace() || is_mark(c));
        let next = lines
            .get(i + 1)
            .map(|l| l.trim_matches(|c: char| c.is_whitespace() || is_mark(c)))
            .unwrap_or("");
        if starts_history(line, next) {
            end = i;
            break;
        }
    }
    lines[..end].join("\n").trim().to_owned()
}

fn is_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

const BANNERS: [&str; 7] = [
    "original message",
    "mensaje original",
    "mensagem original",
    "orijinal ileti",
    "الرسالة الأصلية",
    "ข้อความต้นฉบับ",
    "forwarded message",
];

const FOOTERS: [&str; 7] = [
    "sent from my ",
    "enviado desde mi ",
    "enviado do meu ",
    "enviado de meu ",
    "أرسلت من",
    "أُرسلت من",
    "ส่งจาก",
];

const HEADER_LABELS: [&str; 6] = ["from:", "de:", "kimden:", "من:", "จาก:", "von:"];
const SECOND_HEADERS: [&str; 14] = [
    "sent:",
    "date:",
    "to:",
    "subject:",
    "enviado:",
    "fecha:",
    "para:",
    "asunto:",
    "assunto:",
    "data:",
    "gönderildi:",
    "tarih:",
    "إلى:",
    "ถึง:",
];

fn starts_history(line: &str, next: &str) -> bool {
    if line.starts_with('>') {
        return true;
    }
    // The signature delimiter is "-- " (with its space), kept by trim_matches above only
    // as "--".
    if line == "--" || line == "—" {
        return true;
    }
    let lower = line.to_lowercase();
    if lower.starts_with("-----") || (lower.len() >= 20 && lower.chars().all(|c| c == '_')) {
        return true;
    }
    if BANNERS.iter().any(|b| lower.contains(b)) && lower.contains("---") {
        return true;
    }
    if FOOTERS.iter().any(|f| lower.starts_with(f)) || lower.ends_with("gönderildi") {
        return true;
    }
    if HEADER_LABELS.iter().any(|h| lower.starts_with(h)) {
        let n = next.to_lowercase();
        if SECOND_HEADERS.iter().any(|h| n.starts_with(h)) {
            return true;
        }
    }
    is_reply_header(&lower) || is_reply_header(&format!("{lower} {}", next.to_lowercase()))
}

/// "On … wrote:" and its translations (the line, or the line joined with the next one).
fn is_reply_header(l: &str) -> bool {
    let l = l.trim_end();
    let ends = |w: &str| l.ends_with(&format!("{w}:")) || l.ends_with(&format!("{w} :"));
    (l.starts_with("on ") && ends("wrote"))
        || (l.starts_with("el ") && ends("escribió"))
        || (l.starts_with("em ") && ends("escreveu"))
        || (l.contains("tarihinde") && (ends("yazdı") || ends("şunu yazdı")))
        || (l.starts_with("في ") && l.contains("كتب") && l.ends_with(':'))
        || (l.contains("كتب") && l.ends_with(':') && l.contains('@'))
        || (l.starts_with("เมื่อ") && ends("เขียนว่า"))
}

#[cfg(test)]
mod tests {
    use super::visible_reply;

    #[test]
    fn quoted_history_in_each_language_is_cut() {
        let cases = [
            (
                "7\n\nOn Sun, 7 Dec 2026 at 09:00, Shop <s@x.com> wrote:\n> Rate us 0-10",
                "7",
            ),
            (
                "7\nOn Sun, 7 Dec 2026 at 09:00, Demo Shop <s@x.com>\nwrote:\n> 0 1 2",
                "7",
            ),
            (
                "10 gracias\n\nEl dom, 7 dic 2026 a las 9:00, Tienda (<s@x.com>) escribió:\n> 0-10",
                "10 gracias",
            ),
            (
                "9\n\nEm dom., 7 de dez. de 2026 às 09:00, Loja <s@x.com> escreveu:\n> 0",
                "9",
            ),
            (
                "5\n\n7 Ara 2026 Paz, 09:00 tarihinde Mağaza <s@x.com> şunu yazdı:\n> 0",
                "5",
            ),
            (
                "٩\n\nفي الأحد، ٧ ديسمبر ٢٠٢٦ ٩:٠٠ ص، كتب المتجر <s@x.com>:\n> ٠",
                "٩",
            ),
            (
                "๘\n\nเมื่อ อา. 7 ธ.ค. 2026 09:00 ร้าน <s@x.com> เขียนว่า:\n> 0",
                "๘",
            ),
            ("3\n\n-----Original Message-----\nFrom: Shop\n0 1 2", "3"),
            (
                "3\n________________________________\nFrom: Shop <s@x.com>\nSent: Sunday",
                "3",
            ),
            ("4\nDe: Tienda <s@x.com>\nEnviado: domingo", "4"),
            ("6\n-- \nAyşe Yılmaz\n+90 532 123 45 67", "6"),
            ("8\n\nSent from my iPhone", "8"),
            ("8\n\niPhone'umdan gönderildi", "8"),
            ("2 the box was crushed\n> 0 1 2 3", "2 the box was crushed"),
        ];
        for (body, want) in cases {
            assert_eq!(visible_reply(body), want, "{body:?}");
        }
    }

    #[test]
    fn a_reply_without_history_is_kept_whole() {
        assert_eq!(
            visible_reply("9\r\nFast delivery, thank you!\r\n"),
            "9\nFast delivery, thank you!"
        );
        // "From" in a sentence is not a header block.
        assert_eq!(
            visible_reply("From now on I order here. 10"),
            "From now on I order here. 10"
        );
    }
}
