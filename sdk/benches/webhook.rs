//! Verification cost per signing family on the standard 6.5 KB Shopify `orders/fulfilled`
//! body (../shared/bench), against a hand-written `hmac` baseline.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use aftercare::webhook::{Scheme, Secret, Verifier};
use base64::Engine as _;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const BODY: &[u8] = include_bytes!("fixtures/shopify_order_fulfilled.json");

fn verify(c: &mut Criterion) {
    let now = chrono::Utc::now();
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Bytes(BODY.len() as u64));
    let schemes = [
        (
            "hmac_sha256_base64",
            Scheme::hmac_sha256_base64("X-Shopify-Hmac-Sha256"),
        ),
        (
            "hmac_sha256_hex",
            Scheme::hmac_sha256_hex("X-Salla-Signature"),
        ),
        ("standard_webhooks", Scheme::StandardWebhooks),
    ];
    for (name, scheme) in schemes {
        let v = Verifier::new(scheme, Secret::from("shpss_bench_secret"));
        let headers = v.sign(BODY, now);
        g.bench_with_input(BenchmarkId::new("aftercare", name), &headers, |b, h| {
            b.iter(|| {
                v.verify(std::hint::black_box(h), std::hint::black_box(BODY), now)
                    .unwrap()
            })
        });
    }
    let sig = Verifier::new(
        Scheme::hmac_sha256_base64("h"),
        Secret::from("shpss_bench_secret"),
    )
    .sign(BODY, now);
    let sig = sig.get_str("h").unwrap().to_owned();
    g.bench_function("baseline/hand_written_hmac_base64", |b| {
        b.iter(|| {
            let mut m = Hmac::<Sha256>::new_from_slice(b"shpss_bench_secret").unwrap();
            m.update(std::hint::black_box(BODY));
            let expected = base64::engine::general_purpose::STANDARD
                .decode(&sig)
                .unwrap();
            m.verify_slice(&expected).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
