//! Rendering localized messages and classifying replies: both run once per message, so
//! they should cost microseconds, not milliseconds.

#![allow(missing_docs)]

use aftercare::flows::tracking::{RenderRequest, Renderer};
use aftercare::l10n::{Args, Catalogs, Format, Localizer};
use aftercare::model::{ChannelKind, LineItem};
use aftercare::optout::classify;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let l10n = Localizer::new();
    let args = Args::new()
        .text("first_name", "Layla")
        .ltr("order_number", "#1001")
        .text("carrier", "Aramex")
        .ltr("tracking_number", "AX12345678")
        .url("tracking_url", "https://t.example/AX12345678");
    c.bench_function("l10n/render ar tracking-shipped sms", |b| {
        b.iter(|| l10n.render_as(Format::Sms, black_box("ar-SA"), "tracking-shipped", &args))
    });
    c.bench_function("l10n/render ar tracking-shipped html", |b| {
        b.iter(|| l10n.render_as(Format::Html, black_box("ar-SA"), "tracking-shipped", &args))
    });
    // A shipped email as the tracking flow asks for it: text, HTML and subject, with the
    // item, a guide and the support link.
    let catalogs = Catalogs::new("Dukkan");
    let mut email = RenderRequest::new(
        "ar-SA",
        ChannelKind::Email,
        "tracking-shipped",
        [
            ("first_name", "Layla"),
            ("order_number", "#1001"),
            ("carrier", "Aramex"),
            ("tracking_number", "AX12345678"),
            ("tracking_url", "https://t.example/AX12345678"),
            ("support_url", "https://shop.example/pages/contact"),
            ("estimated_delivery", "2026-03-13T22:00:00Z"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    );
    email.tutorials = vec![(
        "Setting up your cafetière".to_owned(),
        "https://shop.example/guides/cafetiere".to_owned(),
    )];
    email.items = vec![LineItem::new("Cafetière 8 Cup", 1)];
    c.bench_function(
        "l10n/render ar tracking-shipped email (text, html, subject)",
        |b| b.iter(|| catalogs.render(black_box(&email))),
    );
    c.bench_function("l10n/Localizer::new (parse six catalogs)", |b| {
        b.iter(Localizer::new)
    });
    let replies = [
        "STOP",
        "إلغاء الاشتراك",
        "9",
        "I couldn't stop smiling, thanks!",
        "หยุดค่ะ",
    ];
    c.bench_function("optout/classify 5 replies", |b| {
        b.iter(|| {
            replies
                .iter()
                .filter(|r| classify(black_box(r)).is_some())
                .count()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
