//! How long the sandbox takes to build and sign a Shopify-shaped webhook, and how long
//! carrier detection and link building take per tracking number.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use aftercare::webhook::Secret;
use aftercare_sandbox::{Sandbox, Topic};
use criterion::{Criterion, criterion_group, criterion_main};

fn webhooks(c: &mut Criterion) {
    let sb = Sandbox::quiet(
        Secret::from("shpss_bench"),
        "2026-03-02T09:00:00Z".parse().unwrap(),
    );
    let shipped = sb.ship("ar-SA").unwrap();
    c.bench_function("orders/fulfilled build + sign", |b| {
        b.iter(|| {
            sb.sender
                .order(&sb.shop, Topic::OrdersFulfilled, black_box(shipped.order))
                .unwrap()
        })
    });
    c.bench_function("fulfillments/update build + sign", |b| {
        b.iter(|| {
            sb.sender
                .fulfillment(
                    &sb.shop,
                    Topic::FulfillmentsUpdate,
                    black_box(shipped.fulfillment),
                )
                .unwrap()
        })
    });
}

fn carriers(c: &mut Criterion) {
    let numbers = [
        "1Z5R89390357567127",
        "9400 1112 0108 0805 4830 16",
        "986578788855",
        "3318810025",
        "RB123456785GB",
        "9261292700768711948021",
        "not a tracking number",
        "1001921334250001000300779017972697",
    ];
    c.bench_function("carrier::detect (8 mixed numbers)", |b| {
        b.iter(|| {
            for n in numbers {
                black_box(aftercare::carrier::detect(black_box(n)));
            }
        })
    });
    c.bench_function("carrier::tracking_link by name", |b| {
        b.iter(|| {
            aftercare::carrier::tracking_link(
                None,
                black_box(Some("Yurtiçi Kargo")),
                black_box("100000000042"),
            )
        })
    });
}

criterion_group!(benches, webhooks, carriers);
criterion_main!(benches);
