//! Property tests: random headers and bodies never panic the verifier, and only a correct
//! signature verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aftercare::webhook::{RawHeaders, Scheme, Secret, Verifier};
use chrono::{DateTime, Utc};
use proptest::prelude::*;

fn schemes() -> Vec<Scheme> {
    vec![
        Scheme::hmac_sha256_base64("X-Shopify-Hmac-Sha256"),
        Scheme::hmac_sha256_hex("X-Salla-Signature"),
        Scheme::hmac_sha256_hex_prefixed("X-Hub-Signature-256", "sha256="),
        Scheme::StandardWebhooks,
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("X-Shopify-Hmac-Sha256".to_owned()),
        Just("x-salla-signature".to_owned()),
        Just("X-Hub-Signature-256".to_owned()),
        Just("webhook-id".to_owned()),
        Just("webhook-timestamp".to_owned()),
        Just("webhook-signature".to_owned()),
        Just("svix-signature".to_owned()),
        "[A-Za-z-]{0,20}",
    ]
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        "v1,[A-Za-z0-9+/=]{0,60}( v1,[A-Za-z0-9+/=]{0,60})?".prop_map(String::into_bytes),
        "sha256=[0-9a-fA-F]{0,70}".prop_map(String::into_bytes),
        "-?[0-9]{1,20}".prop_map(String::into_bytes),
        "[A-Za-z0-9+/=]{0,50}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_requests_never_panic_nor_verify(
        headers in proptest::collection::vec((header_name(), header_value()), 0..6),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        now in any::<i64>().prop_map(|n| DateTime::from_timestamp(n % 32_503_680_000, 0).unwrap_or_else(Utc::now)),
    ) {
        let h = RawHeaders::from_pairs(headers);
        for scheme in schemes() {
            let v = Verifier::new(scheme, Secret::from("k")).max_body_bytes(200);
            // Must return, never panic; and a random request must not verify.
            prop_assert!(v.verify(&h, &body, now).is_err());
        }
    }

    #[test]
    fn signed_requests_verify_and_any_flipped_bit_breaks_them(
        body in proptest::collection::vec(any::<u8>(), 1..300),
        flip in any::<proptest::sample::Index>(),
    ) {
        let now = Utc::now();
        for scheme in schemes() {
            let v = Verifier::new(scheme, Secret::from("k"));
            let h = v.sign(&body, now);
            prop_assert!(v.verify(&h, &body, now).is_ok());
            let mut bad = body.clone();
            let i = flip.index(bad.len());
            bad[i] ^= 1;
            prop_assert!(v.verify(&h, &bad, now).is_err());
        }
    }
}
