#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::format::*;
use super::*;

const URL: &str = "https://t.example/AX12345678?lang=ar&x=1";

fn full_args() -> Args {
    Args::new()
        .text("first_name", "Layla")
        .ltr("order_number", "#1001")
        .text("carrier", "Aramex")
        .ltr("tracking_number", "AX12345678")
        .url("tracking_url", URL)
        .url("url", "https://shop.example/s/Zm9v_bar-1")
        .text("eta", "28 Nov")
        .text("product_title", "Cafetière 8 Cup")
        .text("shop_name", "Dukkan")
        .text("score_min", "0")
        .text("score_max", "10")
        .text("kind", "NPS")
        .text("score", "3")
        .text("comment", "The box arrived damaged")
        .text("carrier_note", "Delayed by severe weather")
        .text("pickup_point", "Kiosk 4, Main St 1")
        .ltr("code", "SORRY-7KQ2M9XD")
        .text("discount", "15%")
        // The dashboard's retention figures.
        .text("days", "90")
        .text("points", "41.7")
        .text("months", "3")
        .text("multiple", "3")
        .text("median", "38")
}

#[test]
fn every_catalog_parses_without_errors() {
    for (locale, source) in CATALOGS {
        if let Err((_, errors)) = FluentResource::try_new(source.to_owned()) {
            panic!("{locale}: {errors:?}");
        }
    }
}

#[test]
fn every_locale_defines_exactly_the_english_messages() {
    let l = Localizer::new();
    let en = l.message_ids("en");
    assert!(en.len() >= 20, "{en:?}");
    for required in [
        "tracking-shipped",
        "tracking-out-for-delivery",
        "tracking-delivered",
        "tracking-attempted",
        "tracking-exception",
        "tracking-delayed",
        "content-tutorial",
        "support-link",
        "survey-nps-invite",
        "survey-csat-invite",
        "survey-reask",
        "survey-clarify",
        "survey-thanks",
        "survey-closed",
        "optout-confirmed",
        "optin-confirmed",
        "help-reply",
        "email-subject-shipped",
        "email-subject-survey",
        "quiet-footer",
        "stop-hint",
    ] {
        assert!(en.iter().any(|i| i == required), "en lacks {required}");
    }
    for locale in BUILTIN_LOCALES {
        let mut ids = l.message_ids(locale);
        let mut want = en.clone();
        ids.sort();
        want.sort();
        assert_eq!(ids, want, "{locale}");
    }
}

/// The arguments as a flow would pass them for a locale: the date and numbers formatted in it.
fn localized_args(locale: &str) -> Args {
    let eta: chrono::DateTime<chrono::Utc> = "2026-11-28T09:00:00Z".parse().unwrap();
    full_args()
        .text("eta", format_date(locale, eta, chrono_tz::Asia::Riyadh))
        .text("score_min", format_integer(locale, 0))
        .text("score_max", format_integer(locale, 10))
}

fn render_all(locale: &str) -> String {
    let l = Localizer::new();
    let mut out = String::new();
    for id in l.message_ids("en") {
        for (fmt, name) in [(Format::Sms, "sms"), (Format::Html, "html")] {
            let r = l
                .render_as(fmt, locale, &id, &localized_args(locale))
                .unwrap();
            assert_eq!(r.locale_used, locale, "{id} fell back");
            out.push_str(&format!("== {id} [{name}]\n{}\n", r.text));
        }
        let anonymous = localized_args(locale).text("first_name", "  ");
        let r = l.render_as(Format::Sms, locale, &id, &anonymous).unwrap();
        out.push_str(&format!("== {id} [sms, no name]\n{}\n", r.text));
    }
    out
}

/// Snapshot of every message in every locale (SMS, HTML, and SMS without a first name).
/// Regenerate after a deliberate wording change with `UPDATE_SNAPSHOTS=1 cargo test -p aftercare l10n`.
#[test]
fn every_message_renders_in_every_locale_as_in_the_snapshots() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/locales/snapshots");
    for locale in BUILTIN_LOCALES {
        let got = render_all(locale);
        let path = format!("{dir}/{locale}.txt");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}; run with UPDATE_SNAPSHOTS=1 once"));
        assert_eq!(got, want, "{locale} differs from {path}");
    }
}

#[test]
fn no_placeable_is_left_unrendered_and_no_name_greeting_has_no_dangling_comma() {
    for locale in BUILTIN_LOCALES {
        let text = render_all(locale);
        assert!(!text.contains('{') && !text.contains('}'), "{locale}");
        assert!(
            !text.contains(" ,") && !text.contains(" !") && !text.contains("  "),
            "{locale}:\n{text}"
        );
    }
}

#[test]
fn every_url_stands_alone_on_its_own_line_byte_for_byte() {
    let l = Localizer::new();
    for locale in BUILTIN_LOCALES {
        for id in l.message_ids("en") {
            for fmt in [Format::Sms, Format::WhatsApp, Format::EmailText] {
                let r = l.render_as(fmt, locale, &id, &full_args()).unwrap();
                for url in [URL, "https://shop.example/s/Zm9v_bar-1"] {
                    let n = r.text.matches(url).count();
                    let alone = r.text.split('\n').filter(|line| *line == url).count();
                    assert_eq!(
                        n, alone,
                        "{locale} {id}: URL not alone on its line:\n{}",
                        r.text
                    );
                }
                assert!(!r.text.contains("&amp;"));
            }
        }
    }
}

#[test]
fn arabic_sms_exact_bytes() {
    let r = Localizer::new()
        .render_as(Format::Sms, "ar", "tracking-shipped", &full_args())
        .unwrap();
    let want = "أخبار سارّة يا \u{2068}Layla\u{2069}! تم شحن طلبك \u{2066}#1001\u{2069} مع \u{2068}Aramex\u{2069}. رقم التتبع: \u{2066}AX12345678\u{2069}.\nتتبّع شحنتك من هنا:\nhttps://t.example/AX12345678?lang=ar&x=1";
    assert_eq!(r.text.as_bytes(), want.as_bytes());
    assert_eq!(r.dir, Dir::Rtl);
    // The URL line is the input URL, byte for byte, with no mark on either side.
    assert_eq!(r.text.lines().last().unwrap().as_bytes(), URL.as_bytes());
    // Isolates are balanced.
    let opens = r
        .text
        .chars()
        .filter(|c| matches!(c, '\u{2066}'..='\u{2068}'))
        .count();
    let closes = r.text.chars().filter(|c| *c == '\u{2069}').count();
    assert_eq!(opens, closes);
}

#[test]
fn arabic_whatsapp_exact_bytes_are_the_sms_bytes() {
    let l = Localizer::new();
    let wa = l
        .render_as(
            Format::WhatsApp,
            "ar-AE",
            "tracking-out-for-delivery",
            &full_args(),
        )
        .unwrap();
    let want = "مرحبًا \u{2068}Layla\u{2069}! طلبك \u{2066}#1001\u{2069} خرج للتوصيل ومن المتوقع أن يصلك اليوم.\nتابِعه مباشرةً:\nhttps://t.example/AX12345678?lang=ar&x=1";
    assert_eq!(wa.text.as_bytes(), want.as_bytes());
    assert_eq!(wa.locale_used, "ar");
    let sms = l
        .render_as(
            Format::Sms,
            "ar-AE",
            "tracking-out-for-delivery",
            &full_args(),
        )
        .unwrap();
    assert_eq!(sms.text, wa.text);
}

#[test]
fn arabic_html_exact_bytes() {
    let args = full_args().text("first_name", "<Layla & \"Co\">");
    let r = Localizer::new()
        .render_as(Format::Html, "ar", "tracking-shipped", &args)
        .unwrap();
    let want = "<div dir=\"rtl\" lang=\"ar\">أخبار سارّة يا <bdi>&lt;Layla &amp; &quot;Co&quot;&gt;</bdi>! تم شحن طلبك <bdi dir=\"ltr\">#1001</bdi> مع <bdi>Aramex</bdi>. رقم التتبع: <bdi dir=\"ltr\">AX12345678</bdi>.<br>\nتتبّع شحنتك من هنا:<br>\n<a href=\"https://t.example/AX12345678?lang=ar&amp;x=1\" dir=\"ltr\">https://t.example/AX12345678?lang=ar&amp;x=1</a></div>";
    assert_eq!(r.text.as_bytes(), want.as_bytes());
    // The href, once the HTML escaping of `&` is undone, is the input URL byte for byte.
    let href = r
        .text
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(href.replace("&amp;", "&").as_bytes(), URL.as_bytes());
    assert!(
        !r.text.contains('\u{2066}') && !r.text.contains('\u{2068}'),
        "no isolate characters in HTML"
    );
}

#[test]
fn html_url_without_ampersand_is_byte_identical() {
    let r = Localizer::new()
        .render_as(Format::Html, "ar", "support-link", &full_args())
        .unwrap();
    assert!(r.text.contains("<a href=\"https://shop.example/s/Zm9v_bar-1\" dir=\"ltr\">https://shop.example/s/Zm9v_bar-1</a>"));
}

#[test]
fn english_sms_has_no_isolates_unless_an_argument_is_right_to_left() {
    let l = Localizer::new();
    let r = l.render("en", "tracking-shipped", &full_args()).unwrap();
    assert!(
        !r.text
            .chars()
            .any(|c| ('\u{2066}'..='\u{2069}').contains(&c)),
        "{}",
        r.text
    );
    assert!(
        r.text
            .starts_with("Good news, Layla! Your order #1001 has shipped with Aramex.")
    );
    let r = l
        .render(
            "en",
            "tracking-shipped",
            &full_args().text("first_name", "ليلى"),
        )
        .unwrap();
    assert!(
        r.text
            .starts_with("Good news, \u{2068}ليلى\u{2069}! Your order #1001"),
        "{}",
        r.text
    );
}

#[test]
fn bidi_controls_in_customer_text_are_removed() {
    let args = full_args().text("first_name", "Eve\u{202E}lmth.exe");
    let r = Localizer::new()
        .render("en", "tracking-delivered", &args)
        .unwrap();
    assert!(r.text.starts_with("Hi Evelmth.exe! "), "{}", r.text);
    let r = Localizer::new()
        .render("ar", "tracking-delivered", &args)
        .unwrap();
    assert!(r.text.contains("\u{2068}Evelmth.exe\u{2069}"));
}

#[test]
fn urls_with_spaces_or_bidi_characters_are_refused() {
    let l = Localizer::new();
    for bad in [
        "https://a.example/x y",
        "https://a.example/\u{2066}x",
        "",
        "https://a.example/\u{202E}gpj.exe",
    ] {
        let err = l
            .render("ar", "support-link", &full_args().url("url", bad))
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{bad:?}: {err}");
    }
}

#[test]
fn fallback_goes_locale_language_shop_default_english() {
    let mut l = Localizer::new().with_default_locale("tr");
    assert_eq!(l.fallback_chain("pt-PT"), vec!["pt-BR", "tr", "en"]);
    assert_eq!(l.fallback_chain("ar_EG"), vec!["ar", "tr", "en"]);
    assert_eq!(l.fallback_chain("ES-mx"), vec!["es", "tr", "en"]);
    assert_eq!(l.fallback_chain("en-GB"), vec!["en", "tr"]);
    assert_eq!(l.fallback_chain("de-AT"), vec!["tr", "en"]);
    assert_eq!(l.fallback_chain(""), vec!["tr", "en"]);

    let r = l
        .render("pt-PT", "tracking-delivered", &full_args())
        .unwrap();
    assert_eq!(r.locale_used, "pt-BR");
    let r = l
        .render("de-DE", "tracking-delivered", &full_args())
        .unwrap();
    assert_eq!(r.locale_used, "tr");

    // A shop catalog in German with a single message: the rest falls back.
    l.add_catalog("de", "tracking-delivered = Hallo { $first_name }, Ihre Bestellung { $order_number } wurde zugestellt.")
        .unwrap();
    let r = l
        .render("de-DE", "tracking-delivered", &full_args())
        .unwrap();
    assert_eq!(
        (r.locale_used.as_str(), r.text.as_str()),
        ("de", "Hallo Layla, Ihre Bestellung #1001 wurde zugestellt.")
    );
    let r = l.render("de-DE", "survey-closed", &full_args()).unwrap();
    assert_eq!(r.locale_used, "tr");

    // A shop overriding one English message.
    l.add_catalog("en", "stop-hint = Text STOP to stop.")
        .unwrap();
    assert_eq!(
        l.render("en", "stop-hint", &Args::new()).unwrap().text,
        "Text STOP to stop."
    );
    assert!(matches!(
        l.add_catalog("en", "broken = {"),
        Err(Error::Config(_))
    ));
}

#[test]
fn missing_argument_and_unknown_message_are_errors() {
    let l = Localizer::new();
    let err = l
        .render(
            "es",
            "tracking-shipped",
            &Args::new().text("first_name", "Ana"),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("tracking-shipped")),
        "{err}"
    );
    assert!(matches!(
        l.render("es", "no-such-message", &Args::new()),
        Err(Error::NotFound {
            what: "message",
            ..
        })
    ));
}

#[test]
fn directions() {
    assert_eq!(direction("ar"), Dir::Rtl);
    assert_eq!(direction("he-IL"), Dir::Rtl);
    assert_eq!(direction("th"), Dir::Ltr);
    assert_eq!(direction("pt-BR"), Dir::Ltr);
    assert_eq!(
        Localizer::new()
            .render("ar", "stop-hint", &Args::new())
            .unwrap()
            .dir,
        Dir::Rtl
    );
    assert_eq!(
        Localizer::new()
            .render("ar-x-weird", "stop-hint", &Args::new())
            .unwrap()
            .dir,
        Dir::Rtl
    );
}

// ------------------------------------------------------------------ formatting

#[test]
fn decimals_per_locale() {
    let cases = [
        ("en", "1,234.50", "1,234,567.89", "0.05"),
        ("ar", "١٬٢٣٤٫٥٠", "١٬٢٣٤٬٥٦٧٫٨٩", "٠٫٠٥"),
        ("tr", "1.234,50", "1.234.567,89", "0,05"),
        ("th", "1,234.50", "1,234,567.89", "0.05"),
        ("pt-BR", "1.234,50", "1.234.567,89", "0,05"),
        ("es", "1234,50", "1.234.567,89", "0,05"),
        ("pt-PT", "1.234,50", "1.234.567,89", "0,05"),
        ("de", "1,234.50", "1,234,567.89", "0.05"),
    ];
    for (loc, a, b, c) in cases {
        assert_eq!(format_decimal(loc, 123450, 2), a, "{loc}");
        assert_eq!(format_decimal(loc, 123456789, 2), b, "{loc}");
        assert_eq!(format_decimal(loc, 5, 2), c, "{loc}");
    }
    assert_eq!(format_decimal("es", 1234550, 2), "12.345,50");
    assert_eq!(format_decimal("en", -123450, 2), "-1,234.50");
    assert_eq!(format_integer("en", 999), "999");
    assert_eq!(format_integer("en", 100000), "100,000");
    assert_eq!(format_integer("ar", 10), "١٠");
    assert_eq!(format_integer("en", i64::MIN), "-9,223,372,036,854,775,808");
}

#[test]
fn money_uses_the_currency_exponent() {
    assert_eq!(format_money("en", 123450, "USD"), "$1,234.50");
    assert_eq!(format_money("en", 123450, "usd"), "$1,234.50");
    assert_eq!(format_money("en", 123450, "JPY"), "¥123,450");
    assert_eq!(format_money("tr", 123450, "JPY"), "JPY\u{a0}123.450");
    assert_eq!(format_money("ar", 1234500, "KWD"), "١٬٢٣٤٫٥٠٠\u{a0}د.ك");
    assert_eq!(format_money("ar", 123450, "SAR"), "١٬٢٣٤٫٥٠\u{a0}ر.س");
    assert_eq!(format_money("tr", 123450, "TRY"), "₺1.234,50");
    assert_eq!(format_money("th", 123450, "THB"), "฿1,234.50");
    assert_eq!(format_money("pt-BR", 123450, "BRL"), "R$\u{a0}1.234,50");
    assert_eq!(format_money("es", 123450, "EUR"), "1234,50\u{a0}€");
    assert_eq!(format_money("es", 1234550, "EUR"), "12.345,50\u{a0}€");
    assert_eq!(format_money("en", 1234500, "BHD"), "BHD\u{a0}1,234.500");
    assert_eq!(format_money("en", 5, "EUR"), "€0.05");
}

#[test]
fn dates_in_the_customers_time_zone_with_local_month_names() {
    let at: chrono::DateTime<chrono::Utc> = "2026-11-25T22:30:00Z".parse().unwrap();
    let ist = parse_time_zone("Europe/Istanbul").unwrap();
    let ny = parse_time_zone("America/New_York").unwrap();
    let bkk = parse_time_zone("Asia/Bangkok").unwrap();
    let riy = parse_time_zone("Asia/Riyadh").unwrap();
    let sp = parse_time_zone("America/Sao_Paulo").unwrap();
    let mad = parse_time_zone("Europe/Madrid").unwrap();
    assert_eq!(format_date("en", at, ny), "November 25, 2026");
    assert_eq!(format_date("tr", at, ist), "26 Kasım 2026");
    assert_eq!(format_date("th", at, bkk), "26 พฤศจิกายน 2569");
    assert_eq!(format_date("ar", at, riy), "٢٦ نوفمبر ٢٠٢٦");
    assert_eq!(format_date("pt-BR", at, sp), "25 de novembro de 2026");
    assert_eq!(format_date("es", at, mad), "25 de noviembre de 2026");
    assert!(parse_time_zone("Mars/Olympus").is_none());
    let names: Vec<&str> = (1..=12).map(|m| month_name("tr", m)).collect();
    assert_eq!(names[1], "Şubat");
    assert_eq!(names[7], "Ağustos");
    assert_eq!(month_name("ar", 5), "مايو");
    assert_eq!(month_name("es", 9), "septiembre");
    assert_eq!(month_name("pt-BR", 3), "março");
    assert_eq!(month_name("th", 1), "มกราคม");
    assert_eq!(format_time("ar", at, riy), "٠١:٣٠");
    assert_eq!(format_time("en", at, ny), "5:30\u{a0}PM");
    assert_eq!(
        format_time(
            "en",
            "2026-01-01T05:07:00Z".parse().unwrap(),
            chrono_tz::UTC
        ),
        "5:07\u{a0}AM"
    );
    assert_eq!(
        format_time(
            "en",
            "2026-01-01T00:07:00Z".parse().unwrap(),
            chrono_tz::UTC
        ),
        "12:07\u{a0}AM"
    );
}

#[test]
fn formatted_values_render_inside_messages() {
    let at: chrono::DateTime<chrono::Utc> = "2026-11-28T09:00:00Z".parse().unwrap();
    let riy = parse_time_zone("Asia/Riyadh").unwrap();
    let args = full_args().text("eta", format_date("ar", at, riy));
    let r = Localizer::new()
        .render("ar", "tracking-delayed", &args)
        .unwrap();
    assert!(
        r.text.contains("هو \u{2068}٢٨ نوفمبر ٢٠٢٦\u{2069}."),
        "{}",
        r.text
    );
}

/// A shop's own wording may select on a value it shows, or pass one to a function. HTML is
/// formatted with placeholders for shown values, so it used to take the default variant
/// ("Other") where text took the right one; it is now formatted with the values, escaped.
#[test]
fn a_wording_that_selects_on_a_shown_value_renders_its_variant_in_html() {
    let mut l = Localizer::new();
    l.add_catalog(
        "en",
        "pick = { $kind ->\n    [NPS] Net promoter for { $name }\n   *[other] Other\n}\nvia-ref = Asked: { pick }\nvia-fn = { NUMBER($score) } points\n",
    )
    .unwrap();
    let a = Args::new()
        .text("kind", "NPS")
        .text("name", "<b>Ann & \u{E000}0\u{E001}</b>")
        .text("score", "3");
    for (id, want) in [
        ("pick", "Net promoter for"),
        ("via-ref", "Asked: Net promoter for"),
    ] {
        let text = l.render_as(Format::EmailText, "en", id, &a).unwrap().text;
        assert!(text.starts_with(want), "text of {id}: {text}");
        let html = l.render_as(Format::Html, "en", id, &a).unwrap().text;
        assert!(html.contains(want), "html of {id}: {html}");
        assert!(html.starts_with("<div dir=\"ltr\" lang=\"en\">"), "{html}");
        // The value is escaped, and marks inside it are not taken for a placeholder.
        assert!(
            html.contains("&lt;b&gt;Ann &amp; \u{E000}0\u{E001}&lt;/b&gt;"),
            "{html}"
        );
        assert!(!html.contains("<b>"), "{html}");
    }
    let bundle = &l.bundles.iter().find(|(loc, _)| loc == "en").unwrap().1;
    let pattern = |id: &str| bundle.get_message(id).unwrap().value().unwrap();
    assert!(shown::looks_at_shown_values(bundle, pattern("via-fn"), &a));
    assert!(shown::looks_at_shown_values(bundle, pattern("via-ref"), &a));
    // A flag is never shown: selecting on it keeps the placeholders.
    assert!(!shown::looks_at_shown_values(
        bundle,
        pattern("pick"),
        &Args::new().flag("kind", true)
    ));
    // The built-in wordings select on flags only.
    for id in l.message_ids("en") {
        let p = bundle.get_message(&id).and_then(|m| m.value());
        assert!(
            !p.is_some_and(|p| shown::looks_at_shown_values(bundle, p, &full_args())),
            "{id} looks at a shown value"
        );
    }
}

/// Arguments prepared once serve messages of either direction, format and locale exactly
/// as rendering each on its own does (Fluent's arguments are kept per direction and per
/// HTML placeholders, the fallback chain per locale asked).
#[test]
fn prepared_arguments_render_every_direction_and_format_as_fresh_ones() {
    let l10n = Localizer::new();
    let args = full_args().text("first_name", "ليلى");
    let mut prepared = Prepared::new(&args).unwrap();
    for (locale, id) in [
        ("ar-SA", "tracking-shipped"),
        ("en", "tracking-shipped"),
        ("ar", "tracking-delayed"),
        ("tr", "survey-nps-invite"),
        ("ar-EG", "survey-nps-invite"),
        ("pt-PT", "tracking-out-for-delivery"),
    ] {
        for format in [Format::Sms, Format::Html, Format::EmailText, Format::Html] {
            let once = l10n
                .render_prepared(format, locale, id, &mut prepared)
                .unwrap();
            let fresh = l10n.render_as(format, locale, id, &args).unwrap();
            assert_eq!(once, fresh, "{locale} {id} {format:?}");
        }
    }
    // The check of URL arguments moved into `Prepared::new`: still refused.
    let bad = Args::new().url("tracking_url", "https://t.example/a b");
    assert!(matches!(Prepared::new(&bad), Err(Error::Config(_))));
    assert!(matches!(
        l10n.render_as(Format::Sms, "en", "tracking-shipped", &bad),
        Err(Error::Config(_))
    ));
}
