#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

fn code(d: &Detection) -> Vec<&'static str> {
    match d {
        Detection::Unique(c) => vec![c.code],
        Detection::Ambiguous(cs) => cs.iter().map(|c| c.code).collect(),
        Detection::Unknown => vec![],
    }
}

/// Valid numbers from tracking_number_data `couriers/*.json` `test_numbers.valid`.
#[test]
fn valid_numbers_from_tracking_number_data_are_detected() {
    let cases: &[(&str, &str)] = &[
        // ups.json
        ("1Z5R89390357567127", "ups"),
        ("1Z879E930346834440", "ups"),
        ("1Z410E7W0392751591", "ups"),
        ("1Z8V92A70367203024", "ups"),
        // usps.json USPS 20 / USPS 91 / 34v2
        ("0307 1790 0005 2348 3741", "usps"),
        ("9400 1112 0108 0805 4830 16", "usps"),
        ("9361 2898 7870 0317 6337 95", "usps"),
        ("9405803699300124287899", "usps"),
        ("9505 5110 6960 5048 6006 24", "usps"),
        ("9101 1234 5678 9000 0000 13", "usps"),
        ("420 22153 9101026837331000039521", "usps"),
        ("4201002334249200190132607600833457", "usps"),
        ("4201028200009261290113185417468510", "usps"),
        // fedex.json
        ("986578788855", "fedex"),
        ("477179081230", "fedex"),
        ("799531274483", "fedex"),
        ("790535312317", "fedex"),
        ("974367662710", "fedex"),
        ("0414 4176 0228 964", "fedex"),
        ("5682 8361 0012 000", "fedex"),
        ("5682 8361 0012 734", "fedex"),
        ("9611020987654312345672", "fedex"),
        ("1001921334250001000300779017972697", "fedex"),
        ("1001901781990001000300617767839437", "fedex"),
        ("9622001900000000000000776632517510", "fedex"),
        ("9632001560123456789900794808390594", "fedex"),
        ("00 0123 4500 0000 0027", "fedex"),
        // dhl.json
        ("3318810025", "dhl_express"),
        ("73891051146", "dhl_express"),
        ("8487135506", "dhl_express"),
        ("1099255990", "dhl_express"),
        ("JJD0099999999", "dhl_express"),
        ("JVGL0999999990", "dhl_express"),
        ("GM2951173225174494", "dhl_ecommerce"),
        ("GM295117494011169042", "dhl_ecommerce"),
        // canadapost.json
        ("0073938000549297", "canada_post"),
        // s10.json with the issuing post's country
        ("RB123456785GB", "royal_mail"),
        ("RB123456785US", "usps"),
        // S10 numbers built with the S10 check digit for the posts in the table.
        ("EE123456785TH", "thailand_post"),
        ("RR123456785BR", "correios"),
        ("CP123456785TR", "ptt"),
        ("RA123456785SA", "spl"),
        ("EE123456785AE", "emirates_post"),
        ("LX000000005CN", "china_post"),
    ];
    for (n, want) in cases {
        assert_eq!(code(&detect(n)), vec![*want], "{n}");
    }
}

/// Invalid numbers from tracking_number_data `test_numbers.invalid`: never given to the
/// carrier whose format they break (another carrier's format may still fit, by chance).
#[test]
fn wrong_check_digits_are_not_given_to_the_carrier() {
    for (n, not) in [
        ("2Z5R89390357567127", "ups"),
        ("1A5R89390357567127", "ups"),
        ("1Z1111111111111111", "ups"),
        ("0307 1790 0005 2348 3742", "usps"),
        ("996578788855", "fedex"),
        ("5682 8361 0012 732", "fedex"),
        ("9600000000000000000001", "fedex"),
        ("1001901781990001000300617767839438", "fedex"),
        ("9622001560001234567100794808390595", "fedex"),
        ("9261292700768711948020", "fedex"),
        ("3318810010", "dhl_express"),
        ("3318810034", "dhl_express"),
        ("3318810011", "dhl_express"),
        ("XJD0099999998", "dhl_express"),
        ("GS295117494011169041", "dhl_ecommerce"),
        ("0073938000549292", "canada_post"),
        ("RB123456786US", "usps"),
        ("4201028200009261290113185417468511", "usps"),
    ] {
        assert!(!code(&detect(n)).contains(&not), "{n} detected as {not}");
    }
}

#[test]
fn random_text_and_wrong_digits_are_unknown() {
    for n in [
        "1Z5R89390357567128",
        "3318810010",
        "996578788855",
        "RB123456786GB",
        "RB123456785XX",
        "0073938000549292",
        "",
        "   ",
        "hello",
        "123",
        "٣٣١٨٨١٠٠٢٥",
    ] {
        assert_eq!(detect(n), Detection::Unknown, "{n:?}");
    }
}

#[test]
fn s10_check_digit_matches_the_upu_rule() {
    // RB123456785GB: 1*8+2*6+3*4+4*2+5*3+6*5+7*9+8*7 = 204, 204 % 11 = 6, 11 - 6 = 5.
    assert_eq!(s10_check(b"12345678"), Some(5));
    // r = 0 -> 5: 00000000.
    assert_eq!(s10_check(b"00000000"), Some(5));
    // r = 1 -> 0: 0*8 + 2*6 = 12, 12 % 11 = 1.
    assert_eq!(s10_check(b"02000000"), Some(0));
    assert_eq!(s10_check(b"1234567"), None);
    assert_eq!(s10_check(b"1234567A"), None);
}

#[test]
fn colliding_formats_are_ambiguous_not_guessed() {
    // A 22-digit 92... number fits USPS IMpb and FedEx SmartPost with the same checksum.
    let d = detect("9261292700768711948021");
    assert_eq!(code(&d), vec!["fedex", "usps"]);
    // 20-digit numbers: three formats share the length; each fits only its own check digit.
    let fmt = |n: &str| -> Vec<&str> { formats_matching(n).iter().map(|m| m.format).collect() };
    assert_eq!(fmt("61299998820821171811"), ["FedEx SmartPost"]);
    assert_eq!(fmt("71123456789123456787"), ["USPS 20"]);
    assert_eq!(fmt("7196 9010 7560 0307 7385"), ["USPS 91 (IMpb)"]);
}

#[test]
fn names_and_aliases_resolve() {
    for (name, want) in [
        ("UPS", "ups"),
        ("United Parcel Service", "ups"),
        ("ups", "ups"),
        ("DHL Express", "dhl_express"),
        ("DHL", "dhl_express"),
        ("DHL eCommerce", "dhl_ecommerce"),
        ("Correios", "correios"),
        ("Yurtiçi Kargo", "yurtici"),
        ("YURTICI KARGO", "yurtici"),
        ("Kerry Express", "kex"),
        ("Canada Post", "canada_post"),
        ("SMSA Express", "smsa"),
        ("البريد السعودي", "spl"),
        ("ไปรษณีย์ไทย", "thailand_post"),
        ("  fed-ex  ", "fedex"),
    ] {
        assert_eq!(by_name(name).map(|c| c.code), Some(want), "{name}");
    }
    assert!(by_name("").is_none());
    assert!(by_name("Other").is_none());
}

#[test]
fn every_template_has_one_placeholder_and_is_https() {
    for c in all() {
        if let Some(t) = c.url_template {
            assert!(t.starts_with("https://"), "{}", c.code);
            assert_eq!(t.matches("{n}").count(), 1, "{}", c.code);
            assert!(is_web_url(&fill_template(t, "X")), "{}", c.code);
        }
        assert!(
            by_name(c.name).is_some_and(|f| f.code == c.code),
            "{}",
            c.code
        );
        for a in c.aliases {
            assert_eq!(by_name(a).map(|f| f.code), Some(c.code), "{a}");
        }
    }
}

#[test]
fn link_precedence() {
    type Case<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
        LinkSource,
        Option<&'a str>,
    );
    let cases: &[Case<'_>] = &[
        // 1. The platform's URL wins.
        (
            Some(
                "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=7316985122357841",
            ),
            Some("Canada Post"),
            "7316985122357841",
            LinkSource::Platform,
            Some(
                "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=7316985122357841",
            ),
        ),
        (
            Some("  HTTP://track.example/x?y=1 "),
            None,
            "x",
            LinkSource::Platform,
            Some("HTTP://track.example/x?y=1"),
        ),
        // Unsafe or relative platform URLs are ignored.
        (
            Some("javascript:alert(1)"),
            Some("UPS"),
            "1Z5R89390357567127",
            LinkSource::CarrierTemplate,
            Some("https://www.ups.com/track?loc=en_US&tracknum=1Z5R89390357567127"),
        ),
        (
            Some("data:text/html,hi"),
            None,
            "1Z5R89390357567127",
            LinkSource::CarrierTemplate,
            Some("https://www.ups.com/track?loc=en_US&tracknum=1Z5R89390357567127"),
        ),
        (
            Some("//evil.example/x"),
            None,
            "nope",
            LinkSource::None,
            None,
        ),
        (Some("https://"), None, "nope", LinkSource::None, None),
        (
            Some("https://a.example/x y"),
            None,
            "nope",
            LinkSource::None,
            None,
        ),
        (
            Some("https://a.example/\"><script>"),
            None,
            "nope",
            LinkSource::None,
            None,
        ),
        (Some(""), None, "nope", LinkSource::None, None),
        // 2. The named carrier, even when the number looks like another carrier's.
        (
            None,
            Some("Aramex"),
            "3318810025",
            LinkSource::CarrierTemplate,
            Some("https://www.aramex.com/track/results?ShipmentNumber=3318810025"),
        ),
        (
            None,
            Some("Yurtiçi Kargo"),
            "123 456 789",
            LinkSource::CarrierTemplate,
            Some("https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code=123456789"),
        ),
        (
            None,
            Some("Thailand Post"),
            "EF582621151TH",
            LinkSource::CarrierTemplate,
            Some("https://track.thailandpost.co.th/?trackNumber=EF582621151TH"),
        ),
        // A named carrier without a deep link, or unknown: no link, no guess.
        (
            None,
            Some("Emirates Post"),
            "RR123456785AE",
            LinkSource::None,
            None,
        ),
        (
            None,
            Some("Pigeon Post"),
            "1Z5R89390357567127",
            LinkSource::None,
            None,
        ),
        // 3. Unique detection when the platform names nobody.
        (
            None,
            None,
            "1Z5R89390357567127",
            LinkSource::CarrierTemplate,
            Some("https://www.ups.com/track?loc=en_US&tracknum=1Z5R89390357567127"),
        ),
        (
            None,
            Some("Other"),
            "RB123456785GB",
            LinkSource::CarrierTemplate,
            Some("https://www.royalmail.com/track-your-item#/tracking-results/RB123456785GB"),
        ),
        (
            None,
            None,
            "986578788855",
            LinkSource::CarrierTemplate,
            Some("https://www.fedex.com/fedextrack/?trknbr=986578788855"),
        ),
        // 4. Ambiguous or unknown: no link.
        (None, None, "9261292700768711948021", LinkSource::None, None),
        (None, None, "7316985122357841", LinkSource::None, None),
        (None, Some("UPS"), "  ", LinkSource::None, None),
    ];
    for (pu, name, n, src, url) in cases {
        let l = tracking_link(*pu, *name, n);
        assert_eq!(l.source, *src, "{pu:?} {name:?} {n}");
        assert_eq!(l.url.as_deref(), *url, "{pu:?} {name:?} {n}");
    }
}

#[test]
fn odd_numbers_are_url_encoded() {
    let cases = [
        ("AB/12?x=1&y=#2", "AB%2F12%3Fx%3D1%26y%3D%232"),
        ("12 34\t56", "123456"),
        ("a+b%c", "a%2Bb%25c"),
        ("şİ", "%C5%9F%C4%B0"),
        ("A-b_c.d~e", "A-b_c.d~e"),
    ];
    let aramex = by_code("aramex").unwrap();
    for (raw, enc) in cases {
        assert_eq!(
            aramex.url_for(raw).unwrap(),
            format!("https://www.aramex.com/track/results?ShipmentNumber={enc}")
        );
    }
    assert_eq!(by_code("emirates_post").unwrap().url_for("x"), None);
}

mod props {
    use proptest::prelude::*;

    use super::super::*;

    proptest! {
        /// Formats whose weights are coprime with 10 catch every single-digit error: a
        /// number with one digit changed is never taken for the same format.
        #[test]
        fn single_digit_errors_are_caught(
            base in prop::sample::select(vec![
                ("03071790000523483741", "USPS 20"),
                ("71123456789123456787", "USPS 20"),
                ("0073938000549297", "Canada Post (16)"),
                ("041441760228964", "FedEx Ground"),
                ("9400111201080805483016", "USPS 91 (IMpb)"),
            ]),
            pos in 0usize..34,
            delta in 1u8..10,
        ) {
            let (number, format) = base;
            let mut b = number.as_bytes().to_vec();
            let pos = pos % b.len();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(formats_matching(number).iter().any(|m| m.format == format));
            prop_assert!(!formats_matching(&changed).iter().any(|m| m.format == format), "{changed}");
        }

        /// Any text: detection never panics, and links are always web URLs that carry
        /// the number encoded.
        #[test]
        fn any_text_is_safe(text in "\\PC{0,40}") {
            let _ = detect(&text);
            let link = tracking_link(Some(&text), Some("Aramex"), &text);
            if let Some(url) = link.url {
                prop_assert!(is_web_url(&url), "{url}");
            }
        }
    }
}
