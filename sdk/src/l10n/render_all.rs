//! Renders every built-in message in every locale on every channel with every combination
//! of optional data missing, and refuses what a customer would see as a gap: an empty
//! placeable, a doubled space, a space before punctuation, empty brackets, an empty or
//! unbalanced isolate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use super::{BUILTIN_LOCALES, Catalogs, OPTIONAL_ARGS, bidi};
use crate::flows::tracking::{RenderRequest, Renderer};
use crate::model::ChannelKind;

/// Everything a flow can pass, with realistic values.
fn full() -> BTreeMap<String, String> {
    [
        ("first_name", "Emily"),
        ("order_number", "#1001"),
        ("carrier", "Aramex"),
        ("tracking_number", "AX12345678"),
        ("tracking_url", "https://shop.example/t/q8Zr2LxW5eKp"),
        ("estimated_delivery", "2026-03-13T22:00:00Z"),
        ("support_url", "https://shop.example/pages/contact"),
        ("survey_url", "https://shop.example/s/Fq3kP0aZ"),
        ("product_title", "Cafetière 8 Cup"),
        ("score_min", "0"),
        ("score_max", "10"),
        ("kind", "NPS"),
        ("score", "3"),
        ("comment", "The box arrived damaged"),
        // Fragments the tracking flow adds only when a tracking source gave them.
        ("carrier_note", "Weather delay at the Riyadh hub"),
        ("pickup_point", "Aramex Service Point, King Fahd Rd 12"),
        // The recovery flow's discount code.
        ("code", "SORRY-7KQ2M9XD"),
        ("discount", "15%"),
        // The dashboard's retention figures.
        ("days", "90"),
        ("points", "41.7"),
        ("months", "3"),
        ("multiple", "3"),
        ("median", "38"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The request keys behind each optional message argument.
const OPTIONAL_KEYS: [&str; 5] = [
    "first_name",
    "carrier",
    "tracking_number",
    "estimated_delivery",
    "comment",
];

/// What is wrong with a rendered plain text, if anything.
pub(super) fn plain_defects(text: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    let checks: [(&str, &'static str); 10] = [
        ("  ", "doubled space"),
        (" .", "space before a full stop"),
        (" ,", "space before a comma"),
        (" ،", "space before an Arabic comma"),
        (" !", "space before an exclamation mark"),
        (" :", "space before a colon"),
        ("()", "empty brackets"),
        ("( )", "empty brackets"),
        ("{", "unrendered placeable"),
        (": .", "empty value before a full stop"),
    ];
    for (needle, what) in checks {
        if text.contains(needle) {
            found.push(what);
        }
    }
    let openers = text
        .chars()
        .filter(|c| matches!(*c, bidi::LRI | bidi::RLI | bidi::FSI))
        .count();
    if openers != text.chars().filter(|c| *c == bidi::PDI).count() {
        found.push("unbalanced isolates");
    }
    for open in [bidi::LRI, bidi::RLI, bidi::FSI] {
        if text.contains(&format!("{open}{}", bidi::PDI)) {
            found.push("empty isolate");
        }
    }
    if text.lines().any(|l| {
        l != l.trim() || (!l.is_empty() && l.trim_matches(bidi::is_bidi_control).is_empty())
    }) {
        found.push("a line with leading/trailing space or only isolates");
    }
    found
}

/// What is wrong with rendered HTML, if anything.
fn html_defects(html: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for (needle, what) in [
        ("<bdi></bdi>", "empty placeable"),
        ("<bdi dir=\"ltr\"></bdi>", "empty placeable"),
        ("  ", "doubled space"),
        (" .", "space before a full stop"),
        ("()", "empty brackets"),
        ("{", "unrendered placeable"),
        ("<p></p>", "empty paragraph"),
    ] {
        if html.contains(needle) {
            found.push(what);
        }
    }
    found
}

#[test]
fn every_message_locale_and_channel_reads_whole_with_any_optional_data_missing() {
    let catalogs = Catalogs::new("Dukkan");
    let ids = catalogs.localizer().message_ids("en");
    assert!(ids.len() > 40, "{ids:?}");
    let mut failures = Vec::new();
    let mut rendered = 0usize;
    for locale in BUILTIN_LOCALES {
        for id in &ids {
            for channel in [ChannelKind::Sms, ChannelKind::Whatsapp, ChannelKind::Email] {
                for mask in 0u32..(1 << OPTIONAL_KEYS.len()) {
                    let mut args = full();
                    for (bit, key) in OPTIONAL_KEYS.iter().enumerate() {
                        if mask & (1 << bit) != 0 {
                            // Half the time absent, half the time blank: both happen.
                            if bit % 2 == 0 {
                                args.remove(*key);
                            } else {
                                args.insert((*key).to_owned(), "  ".to_owned());
                            }
                        }
                    }
                    let req = RenderRequest::new(locale, channel, id.as_str(), args);
                    let r = catalogs.render(&req).unwrap();
                    rendered += 1;
                    let mut defects = plain_defects(&r.text);
                    if let Some(s) = &r.subject {
                        defects.extend(plain_defects(s));
                    }
                    if let Some(h) = &r.html {
                        defects.extend(html_defects(h));
                    }
                    if !defects.is_empty() {
                        failures.push(format!(
                            "{locale} {id} {channel} missing {:?}: {defects:?}\n{}",
                            OPTIONAL_KEYS
                                .iter()
                                .enumerate()
                                .filter(|(b, _)| mask & (1 << b) != 0)
                                .map(|(_, k)| *k)
                                .collect::<Vec<_>>(),
                            r.text
                        ));
                    }
                }
            }
        }
    }
    assert!(rendered > 10_000, "{rendered}");
    assert!(
        failures.is_empty(),
        "{} of {rendered} renderings have gaps, e.g.:\n{}",
        failures.len(),
        failures
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
}

/// The strict localizer itself refuses a built-in wording that uses a missing optional
/// argument: every built-in message has a `has_…` wording for each one.
#[test]
fn no_builtin_wording_uses_a_missing_optional_argument() {
    use super::{Args, Format, Localizer};
    let l = Localizer::new();
    for locale in BUILTIN_LOCALES {
        for id in l.message_ids("en") {
            for mask in 0u32..(1 << OPTIONAL_ARGS.len()) {
                let mut args = Args::new()
                    .ltr("order_number", "#1001")
                    .url("tracking_url", "https://shop.example/t/q8Zr2LxW5eKp")
                    .url("url", "https://shop.example/s/Fq3kP0aZ")
                    .text("shop_name", "Dukkan")
                    .text("product_title", "Cafetière 8 Cup")
                    .text("score_min", "0")
                    .text("score_max", "10")
                    .text("kind", "NPS")
                    .text("score", "3")
                    .text("carrier_note", "Weather delay")
                    .text("pickup_point", "Service Point 12")
                    .ltr("code", "SORRY-7KQ2M9XD")
                    .text("discount", "15%")
                    .text("days", "90")
                    .text("points", "41.7")
                    .text("months", "3")
                    .text("multiple", "3")
                    .text("median", "38");
                for (bit, name) in OPTIONAL_ARGS.iter().enumerate() {
                    if mask & (1 << bit) == 0 {
                        args = args.text(name, "x");
                    }
                }
                for format in [Format::Sms, Format::Html] {
                    if let Err(e) = l.render_as(format, locale, &id, &args) {
                        panic!("{locale} {id} mask {mask:b}: {e}");
                    }
                }
            }
        }
    }
}

#[test]
fn a_shops_own_wording_without_selectors_still_renders() {
    let mut l = super::Localizer::new();
    l.add_catalog(
        "en",
        "tracking-delayed = Late! New date: { $eta }.\n    { $tracking_url }\n",
    )
    .unwrap();
    let c = Catalogs::with_localizer(l, "Dukkan");
    let mut args = full();
    args.remove("estimated_delivery");
    let r = c
        .render(&RenderRequest::new(
            "en",
            ChannelKind::Sms,
            "tracking-delayed",
            args,
        ))
        .unwrap();
    assert!(r.text.starts_with("Late! New date: ."), "{}", r.text);
}

/// Realistic data per locale: a local name, carrier, tracking number and a short link.
fn realistic(locale: &str) -> BTreeMap<String, String> {
    let (name, carrier, number) = match locale {
        "ar" => ("عبدالرحمن", "Aramex", "34567891234"),
        "tr" => ("Ayşegül", "Yurtiçi Kargo", "310123456789"),
        "th" => ("สมศักดิ์", "Kerry Express", "KEXTH0123456789012"),
        "es" => ("María José", "Correos Express", "PQ4F6P0702345680108005Y"),
        "pt-BR" => ("João Pedro", "Correios", "AA123456785BR"),
        _ => ("Christopher", "UPS", "1Z999AA10123456784"),
    };
    [
        ("first_name", name),
        ("order_number", "#100234"),
        ("carrier", carrier),
        ("tracking_number", number),
        (
            "tracking_url",
            "https://shop.example.com/t/q8Zr2LxW5eKpT3vN0aYd1w",
        ),
        ("estimated_delivery", "2026-03-13T22:00:00Z"),
        ("time_zone", "Europe/Istanbul"),
        ("support_url", "https://shop.example.com/pages/contact"),
        (
            "survey_url",
            "https://shop.example.com/s/Fq3kP0aZ8nWm2Lr5Tx7Yc9",
        ),
        ("product_title", "Espresso Machine Pro 2"),
        ("score_min", "0"),
        ("score_max", "10"),
        ("code", "SORRY-7KQ2M9XD"),
        ("discount", "15%"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The messages sent by SMS to customers, with their tutorials (two guides) where a
/// tracking message would carry them.
const CUSTOMER_SMS: [&str; 21] = [
    // Answers to the customer's own texts (`flows::replies`, `flows::feedback`).
    "survey-reask",
    "survey-clarify",
    "survey-closed",
    "optout-confirmed",
    "optin-confirmed",
    "help-reply",
    "tracking-shipped",
    "tracking-out-for-delivery",
    "tracking-delivered",
    "tracking-attempted",
    "tracking-exception",
    "tracking-delayed",
    "tracking-ready-for-pickup",
    "survey-nps-invite",
    "survey-csat-invite",
    "survey-ces-invite",
    "survey-reminder",
    "survey-thanks",
    "review-request",
    "recovery-apology",
    "recovery-apology-code",
];

/// Messages that are never an SMS of their own: page and dashboard text, email subjects
/// and footers, fragments added to another message (whose SMS is budgeted with them), and
/// the alert to the shop's staff.
const NOT_SMS_PREFIXES: [&str; 5] = ["page-", "status-", "dash-", "ret-", "email-"];
const NOT_SMS: [&str; 27] = [
    "content-tutorial",
    "support-link",
    "tutorials-intro",
    "quiet-footer",
    "stop-hint",
    "carrier-note",
    "pickup-point",
    "support-detractor-alert",
    "survey-nps-question",
    "survey-csat-question",
    "survey-ces-question",
    "survey-nps-low",
    "survey-nps-high",
    "survey-csat-low",
    "survey-csat-high",
    "survey-ces-low",
    "survey-ces-high",
    "survey-comment-label",
    "survey-submit",
    "survey-confirm-hint",
    "survey-already-answered",
    "survey-pick-a-score",
    "survey-review-prompt",
    "survey-review-link",
    "whatsapp-no-name",
    "whatsapp-no-carrier",
    "whatsapp-no-tracking-number",
];

/// The carrier's note and the pickup point stay in an SMS where they fit its budget, and
/// are left to the tracking page where they do not.
#[test]
fn sms_fragments_are_kept_while_they_fit() {
    let catalogs = Catalogs::new("Dukkan Home");
    let render = |locale: &str, id: &str, key: &str, value: &str| {
        let mut args = realistic(locale);
        args.insert(key.to_owned(), value.to_owned());
        catalogs
            .render(&RenderRequest::new(locale, ChannelKind::Sms, id, args))
            .unwrap()
            .text
    };
    let short = "Recipient not available";
    assert!(render("en", "tracking-attempted", "carrier_note", short).contains(short));
    assert!(
        render(
            "ar",
            "tracking-ready-for-pickup",
            "pickup_point",
            "Aramex SP 12"
        )
        .contains("Aramex SP 12")
    );
    let long =
        "Weather delay at the Riyadh hub; shipments are expected to move again within 48 hours";
    assert!(!render("tr", "tracking-delayed", "carrier_note", long).contains("Riyadh"));
    // Email and WhatsApp keep it whatever its length.
    let mut args = realistic("tr");
    args.insert("carrier_note".to_owned(), long.to_owned());
    for channel in [ChannelKind::Email, ChannelKind::Whatsapp] {
        let r = catalogs
            .render(&RenderRequest::new(
                "tr",
                channel,
                "tracking-delayed",
                args.clone(),
            ))
            .unwrap();
        assert!(r.text.contains("Riyadh"), "{channel}");
    }
}

/// Every message is either budgeted as an SMS or declared not one: a new message (another
/// developer's recovery apology, a complaint answer) cannot skip the budget unnoticed.
#[test]
fn every_message_is_budgeted_as_an_sms_or_declared_not_one() {
    let catalogs = Catalogs::new("Dukkan Home");
    let unclassified: Vec<String> = catalogs
        .localizer()
        .message_ids("en")
        .into_iter()
        .filter(|id| {
            !CUSTOMER_SMS.contains(&id.as_str())
                && !NOT_SMS.contains(&id.as_str())
                && !NOT_SMS_PREFIXES.iter().any(|p| id.starts_with(p))
        })
        .collect();
    assert!(
        unclassified.is_empty(),
        "add these to CUSTOMER_SMS (and keep them within budget) or to NOT_SMS: {unclassified:?}"
    );
}

#[test]
fn every_customer_sms_fits_its_segment_budget_in_every_locale() {
    use crate::sms::{Encoding, segments};
    let catalogs = Catalogs::new("Dukkan Home");
    let mut over = Vec::new();
    let mut table = String::new();
    for locale in BUILTIN_LOCALES {
        for id in CUSTOMER_SMS {
            let mut args = realistic(locale);
            // The fragments the tracking flow adds to these (`enqueue_milestone`): the
            // carrier's own words and the pickup point, inside the same SMS.
            match id {
                "tracking-delayed" | "tracking-exception" | "tracking-attempted" => {
                    args.insert(
                        "carrier_note".into(),
                        "Weather delay at the Riyadh hub".into(),
                    );
                }
                "tracking-ready-for-pickup" => {
                    args.insert(
                        "pickup_point".into(),
                        "Aramex Service Point, King Fahd Rd 12".into(),
                    );
                }
                _ => {}
            }
            let mut req = RenderRequest::new(locale, ChannelKind::Sms, id, args);
            req.tutorials = vec![
                (
                    "Espresso Machine Pro 2: first use".to_owned(),
                    "https://shop.example.com/guides/espresso-first-use".to_owned(),
                ),
                (
                    "Descaling".to_owned(),
                    "https://shop.example.com/guides/descaling".to_owned(),
                ),
            ];
            let text = catalogs.render(&req).unwrap().text;
            let s = segments(&text);
            let budget = match s.encoding {
                Encoding::Gsm7 => 2,
                _ => 3,
            };
            table.push_str(&format!(
                "{locale:6} {id:26} {:5} {:4} units {} segments\n",
                s.encoding.as_str(),
                s.units,
                s.segments
            ));
            if s.segments > budget {
                over.push(format!("{locale} {id}: {s:?}\n{text}"));
            }
        }
    }
    println!("{table}");
    assert!(over.is_empty(), "{}\n{}", table, over.join("\n---\n"));
}

/// The text as displayed, left to right on the screen, by the Unicode Bidirectional
/// Algorithm (UAX #9) in a right-to-left paragraph; one line at a time.
fn visual_rtl(text: &str) -> String {
    use unicode_bidi::{BidiInfo, Level};
    text.lines()
        .map(|line| {
            let info = BidiInfo::new(line, Some(Level::rtl()));
            let Some(para) = info.paragraphs.first() else {
                return String::new();
            };
            info.reorder_line(para, para.range.clone())
                .chars()
                .filter(|c| !bidi::is_bidi_control(*c))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn arabic_mixed_runs_display_in_reading_order() {
    // The visual order check itself: an offset without isolation is displayed "03+".
    assert!(visual_rtl("٢٠٢٦ (+03)").contains("03+"));
    #[cfg(feature = "axum")]
    {
        use crate::http::tracking::PageText as _;
        let c = Catalogs::new("Dukkan");
        let at: chrono::DateTime<chrono::Utc> = "2026-03-13T22:00:00Z".parse().unwrap();
        let shown = visual_rtl(&c.datetime("ar", at, chrono_tz::Europe::Istanbul));
        assert!(shown.contains("(+03)"), "the zone reads (+03): {shown}");
        assert!(!shown.contains("03+"), "{shown}");
        // Left-to-right pages are left alone.
        let en = c.datetime("en", at, chrono_tz::Europe::Istanbul);
        assert!(en.ends_with("(+03)") && !en.contains(bidi::LRI), "{en}");
    }
    // Order and tracking numbers keep their order inside Arabic sentences on every
    // plain-text channel.
    let catalogs = Catalogs::new("Dukkan Home");
    for channel in [ChannelKind::Sms, ChannelKind::Whatsapp, ChannelKind::Email] {
        let req = RenderRequest::new("ar", channel, "tracking-shipped", realistic("ar"));
        let shown = visual_rtl(&catalogs.render(&req).unwrap().text);
        for run in ["#100234", "34567891234", "Aramex"] {
            assert!(shown.contains(run), "{channel} {run}: {shown}");
        }
    }
}

#[test]
fn unsolicited_sms_say_how_to_stop_by_default() {
    // Safe by default: survey invitations, reminders and review requests carry the opt-out
    // hint without the shop turning it on; order updates stay short.
    let catalogs = Catalogs::new("Dukkan Home");
    for locale in BUILTIN_LOCALES {
        let hint = catalogs
            .localizer()
            .render_as(
                super::Format::Sms,
                locale,
                "stop-hint",
                &super::Args::new().text("shop_name", "Dukkan Home"),
            )
            .unwrap()
            .text;
        for id in CUSTOMER_SMS {
            let req = RenderRequest::new(locale, ChannelKind::Sms, id, realistic(locale));
            let text = catalogs.render(&req).unwrap().text;
            let unsolicited = id == "review-request"
                || id == "survey-reminder"
                || (id.starts_with("survey-") && id.ends_with("-invite"));
            assert_eq!(
                text.ends_with(&hint),
                unsolicited,
                "{locale} {id}: the hint belongs on unsolicited messages only\n{text}"
            );
        }
    }
}

/// The tag structure of an HTML fragment: balanced, and no block inside a `<p>` (a parser
/// would close the paragraph early: "no `<div>` in `<p>`"). Returns what is wrong.
pub(crate) fn html_structure_defects(html: &str) -> Vec<String> {
    const VOID: [&str; 6] = ["br", "img", "hr", "meta", "input", "link"];
    const BLOCK: [&str; 16] = [
        "div", "p", "ul", "ol", "li", "table", "h1", "h2", "h3", "h4", "section", "header",
        "footer", "form", "fieldset", "dl",
    ];
    let mut defects = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let Some(end) = rest.find('>') else {
            defects.push("an unterminated tag".to_owned());
            break;
        };
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() || VOID.contains(&name.as_str()) {
            continue;
        }
        if closing {
            match stack.pop() {
                Some(open) if open == name => {}
                other => defects.push(format!("</{name}> closes {other:?}")),
            }
        } else {
            if BLOCK.contains(&name.as_str()) && stack.iter().any(|t| t == "p") {
                defects.push(format!("<{name}> inside <p>"));
            }
            stack.push(name);
        }
    }
    if !stack.is_empty() {
        defects.push(format!("unclosed {stack:?}"));
    }
    defects
}

#[test]
fn the_structure_check_finds_a_div_in_a_p() {
    assert!(html_structure_defects("<p>a</p><div>b<br></div><!-- x -->").is_empty());
    assert_eq!(
        html_structure_defects("<p><div dir=\"ltr\">a</div></p>"),
        vec!["<div> inside <p>".to_owned()]
    );
    assert!(!html_structure_defects("<p>a").is_empty());
}

#[test]
fn every_email_is_valid_html_with_its_footer_in_every_locale() {
    let branding = crate::branding::Branding::new("Dukkan Home")
        .logo_url("https://cdn.dukkan.example/logo.png")
        .support_url("https://dukkan.example/help");
    for catalogs in [
        Catalogs::new("Dukkan Home"),
        Catalogs::new("Dukkan Home").with_branding(branding),
    ] {
        let ids = catalogs.localizer().message_ids("en");
        for locale in BUILTIN_LOCALES {
            let why = catalogs
                .localizer()
                .render_as(
                    super::Format::EmailText,
                    locale,
                    "quiet-footer",
                    &super::Args::new().text("shop_name", "Dukkan Home"),
                )
                .unwrap()
                .text;
            for id in ids.iter().filter(|id| {
                id.starts_with("tracking-") || id.starts_with("survey-") || *id == "review-request"
            }) {
                let mut req =
                    RenderRequest::new(locale, ChannelKind::Email, id.as_str(), realistic(locale));
                req.tutorials = vec![(
                    "Espresso Machine Pro 2: first use".to_owned(),
                    "https://shop.example.com/guides/espresso-first-use".to_owned(),
                )];
                req.items = pictured_items();
                let r = catalogs.render(&req).unwrap();
                let html = r.html.unwrap();
                let defects = html_structure_defects(&html);
                assert!(defects.is_empty(), "{locale} {id}: {defects:?}\n{html}");
                // Why it came and how to stop, last, in both parts.
                let (_, footer) = html
                    .split_once(super::EMAIL_FOOTER_MARK)
                    .unwrap_or_else(|| panic!("{locale} {id}: no footer\n{html}"));
                assert!(footer.contains("Dukkan Home"), "{locale} {id}: {footer}");
                assert!(
                    r.text.trim_end().contains(why.trim()),
                    "{locale} {id}: the text part lacks why it came\n{}",
                    r.text
                );
            }
        }
    }
}

/// A pictured line, one without a picture and one whose picture is not `https`.
fn pictured_items() -> Vec<crate::model::LineItem> {
    let line = |title: &str, image: Option<&str>| {
        let mut l = crate::model::LineItem::new(title, 1);
        l.image = crate::model::ImageUrl::from_payload(image);
        l
    };
    vec![
        line(
            "Espresso Machine Pro 2",
            Some("https://cdn.example/espresso.jpg?w=128&h=128"),
        ),
        line("قهوة عربية", None),
        line("Filter papers", Some("http://shop.example/filters.jpg")),
    ]
}

#[test]
fn emails_list_the_products_with_their_pictures_and_fall_back_to_text() {
    let catalogs = Catalogs::new("Dukkan Home");
    for locale in BUILTIN_LOCALES {
        let mut req = RenderRequest::new(
            locale,
            ChannelKind::Email,
            "tracking-shipped",
            realistic(locale),
        );
        req.items = pictured_items();
        let r = catalogs.render(&req).unwrap();
        let html = r.html.unwrap();
        // The https picture, named, in a fixed box, lazily; nothing for the others.
        assert!(
            html.contains(
                r#"<img src="https://cdn.example/espresso.jpg?w=128&amp;h=128" alt="Espresso Machine Pro 2" width="64" height="64" loading="lazy""#
            ),
            "{locale}: {html}"
        );
        assert_eq!(html.matches("<img").count(), 1, "{locale}: {html}");
        assert!(!html.contains("http://shop.example"), "{locale}");
        for title in ["Espresso Machine Pro 2", "قهوة عربية", "Filter papers"] {
            assert!(
                html.contains(&format!("<bdi>{title}</bdi> × 1")),
                "{locale}: {html}"
            );
            assert!(r.text.contains(title), "{locale}: {}", r.text);
        }
        let rtl = crate::l10n::direction(locale) == crate::l10n::Dir::Rtl;
        assert!(
            html.contains(&format!(
                r#"<table role="presentation" dir="{}""#,
                if rtl { "rtl" } else { "ltr" }
            )),
            "{locale}"
        );
        // Without any picture: the names alone, no empty picture column.
        req.items = vec![crate::model::LineItem::new("Filter papers", 3)];
        let html = catalogs.render(&req).unwrap().html.unwrap();
        assert!(
            !html.contains("<img") && !html.contains("width:64px"),
            "{locale}: {html}"
        );
        assert!(html.contains("<bdi>Filter papers</bdi> × 3"), "{locale}");
        // SMS stays short: no product list.
        let mut sms = RenderRequest::new(
            locale,
            ChannelKind::Sms,
            "tracking-shipped",
            realistic(locale),
        );
        sms.items = pictured_items();
        assert!(
            !catalogs
                .render(&sms)
                .unwrap()
                .text
                .contains("Filter papers"),
            "{locale}"
        );
    }
}
