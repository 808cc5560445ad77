//! The demo catalog (a small coffee shop) and one customer per demo locale.

use super::*;

/// The demo catalog: a small coffee shop.
pub(crate) fn demo_catalog() -> Vec<SimProduct> {
    let mut v = vec![
        SimProduct::new(
            8_820_475_001_101,
            45_120_331_001_101,
            "ESP-BAR-01",
            "Barista Espresso Machine",
            "espresso-machines",
            34_900,
        ),
        SimProduct::new(
            8_820_475_001_102,
            45_120_331_001_102,
            "BEAN-ETH-1KG",
            "Ethiopia Yirgacheffe Beans 1 kg",
            "coffee-beans",
            3_200,
        ),
        SimProduct::new(
            8_820_475_001_103,
            45_120_331_001_103,
            "FROTH-MAG-02",
            "Magnetic Milk Frother",
            "accessories",
            5_900,
        ),
        SimProduct::new(
            8_820_475_001_104,
            45_120_331_001_104,
            "DESC-KIT-01",
            "Descaling Kit",
            "maintenance",
            1_450,
        ),
        SimProduct::new(
            8_820_475_001_105,
            45_120_331_001_105,
            "CUP-CER-SET4",
            "Ceramic Cup Set",
            "kitchenware",
            2_800,
        ),
    ];
    v[0].grams = 7_400;
    v[1].grams = 1_000;
    v[4].variant_title = Some("Set of 4 / Sand".to_owned());
    v
}

pub(super) fn consent(
    purpose: Purpose,
    channel: ChannelKind,
    state: ConsentState,
    source: &str,
) -> Consent {
    let mut c = Consent::new(purpose, channel, state);
    c.source = Some(source.to_owned());
    c.updated_at = Some(DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_400));
    c
}

/// One customer per demo locale.
pub(crate) fn demo_customers() -> Vec<SimCustomer> {
    use ChannelKind::{Email, Sms, Whatsapp};
    use ConsentState::{Denied, Granted};
    use Purpose::{Feedback, Marketing, Transactional};
    #[allow(clippy::type_complexity)]
    let rows: [(
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        (&str, &str, &str, &str, Option<&str>, &str),
        &str,
    ); 6] = [
        (
            "نورة",
            "القحطاني",
            "ar-SA",
            "+966501234567",
            "noura.alqahtani@example.sa",
            "Asia/Riyadh",
            (
                "طريق الملك فهد ١٢",
                "الرياض",
                "Saudi Arabia",
                "SA",
                Some("12271"),
                "01",
            ),
            "smsa",
        ),
        (
            "Ayşe",
            "Yılmaz",
            "tr-TR",
            "+905321234567",
            "ayse.yilmaz@example.com.tr",
            "Europe/Istanbul",
            (
                "Bağdat Caddesi No: 215",
                "İstanbul",
                "Turkey",
                "TR",
                Some("34728"),
                "34",
            ),
            "yurtici",
        ),
        (
            "สมชาย",
            "ใจดี",
            "th-TH",
            "+66812345678",
            "somchai.j@example.co.th",
            "Asia/Bangkok",
            (
                "99 ถนนสุขุมวิท",
                "กรุงเทพมหานคร",
                "Thailand",
                "TH",
                Some("10110"),
                "TH-10",
            ),
            "thailand_post",
        ),
        (
            "João",
            "Silva",
            "pt-BR",
            "+5511987654321",
            "joao.silva@example.com.br",
            "America/Sao_Paulo",
            (
                "Avenida Paulista, 1578",
                "São Paulo",
                "Brazil",
                "BR",
                Some("01310-200"),
                "SP",
            ),
            "correios",
        ),
        (
            "María",
            "Hernández",
            "es-MX",
            "+525512345678",
            "maria.hernandez@example.com.mx",
            "America/Mexico_City",
            (
                "Av. Insurgentes Sur 1602",
                "Ciudad de México",
                "Mexico",
                "MX",
                Some("03940"),
                "CMX",
            ),
            "dhl_express",
        ),
        (
            "Emily",
            "Carter",
            "en-US",
            "+12025550143",
            "emily.carter@example.com",
            "America/New_York",
            (
                "1600 Example Ave NW",
                "Washington",
                "United States",
                "US",
                Some("20500"),
                "DC",
            ),
            "ups",
        ),
    ];
    rows.into_iter()
        .map(
            |(
                first,
                last,
                locale,
                phone,
                email,
                tz,
                (street, city, country, cc, zip, prov),
                carrier,
            )| {
                let mut c = SimCustomer::new(first, last, locale);
                c.phone = Some(phone.to_owned());
                c.email = Some(email.to_owned());
                c.time_zone = Some(tz.to_owned());
                let mut a = SimAddress::new(street, city, country, cc);
                a.first_name = first.to_owned();
                a.last_name = last.to_owned();
                a.zip = zip.map(str::to_owned);
                a.province_code = Some(prov.to_owned());
                a.phone = Some(phone.to_owned());
                c.address = a;
                c.preferred_carrier = Some(carrier.to_owned());
                for ch in [Whatsapp, Sms, Email] {
                    c.consents
                        .push(consent(Transactional, ch, Granted, "checkout"));
                    c.consents.push(consent(Feedback, ch, Granted, "checkout"));
                }
                c.consents
                    .push(consent(Marketing, Email, Granted, "checkout"));
                c
            },
        )
        .enumerate()
        .map(|(i, mut c)| {
            // Variety: the Turkish customer refused SMS, the US customer refused feedback by SMS.
            match i {
                1 => {
                    c.consents
                        .push(consent(Transactional, Sms, Denied, "reply:STOP"));
                    c.consents
                        .push(consent(Marketing, Sms, Denied, "reply:STOP"));
                }
                5 => c
                    .consents
                    .push(consent(Feedback, Sms, Denied, "reply:STOP")),
                _ => {}
            }
            c
        })
        .collect()
}
