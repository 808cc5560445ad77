//! Rendering localized messages and classifying replies: both run once per message, so
//! they should cost microseconds, not milliseconds.

#![allow(missing_docs)]

use aftercare::l10n::{Args, Format, Localizer};
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
