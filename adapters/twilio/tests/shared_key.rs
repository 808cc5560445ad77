#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Twilio's newer signing: a Webhooks Rule applies a Setting that signs with a SharedKey and
//! HMAC-SHA256, announced by `X-Twilio-Webhooks-Signature-Settings:
//! key=<SharedKey>,algorithm=HMAC_SHA256`; "only the hash changes: the signed string is
//! still the full URL followed by the sorted POST parameters" (twilio-node
//! `examples/WebhookSignatureValidation.md`;
//! `https://www.twilio.com/docs/usage/webhooks/webhook-shared-keys`).
//!
//! No official HMAC-SHA256 vector was found (the twilio-node and twilio-python snapshots at
//! hand predate it), so the vectors here are the official HMAC-SHA1 inputs of twilio-python's
//! `tests/unit/test_request_validator.py` signed with HMAC-SHA256 by Python's own
//! `hmac`/`hashlib` (which give the official `RSOYDt4T1cUTdK1PDd93/VVr8B8=` for SHA-1 over
//! the same string), independently of this crate.

use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_twilio::signature::{
    Algorithm, SIGNATURE_SETTINGS_HEADER, SignatureSettings, sign_with, validate_form_with,
    validate_json_with,
};
use aftercare_twilio::webhook::TwilioWebhook;

const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const PARAMS: [(&str, &str); 5] = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
];
/// HMAC-SHA256 (key `12345`) of the URL and sorted parameters, base64.
const SHA256_VECTOR: &str = "033hgUJA9M/hXIZsYjwkerEP/DBm35nEri5FhCYjA5s=";
/// The same with `:443` added to the host.
const SHA256_VECTOR_443: &str = "grxRoa/VNtXxd524NGLxIdev83nh23xhrRUVm50Umq4=";
/// HMAC-SHA256 (key `12345`) of the URL with `&bodySHA256=<hash of BODY>`.
const SHA256_JSON_VECTOR: &str = "+UOCWf84gdgo/5Hpg4m5/EgKnJA2/TbOw5sPNVr3bPk=";
const BODY: &str = "{\"property\": \"value\", \"boolean\": true}";
const BODY_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
const SETTINGS: &str = "key=KSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,algorithm=HMAC_SHA256";

#[test]
fn sha256_vectors() {
    let key = Secret::from("12345");
    assert_eq!(
        sign_with(Algorithm::HmacSha256, b"12345", URL, &PARAMS),
        SHA256_VECTOR
    );
    for sig in [SHA256_VECTOR, SHA256_VECTOR_443] {
        assert!(validate_form_with(Algorithm::HmacSha256, &[&key], URL, &PARAMS, sig).is_ok());
    }
    // The SHA-1 signature is not a SHA-256 one, and the reverse.
    assert_eq!(
        validate_form_with(
            Algorithm::HmacSha256,
            &[&key],
            URL,
            &PARAMS,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ),
        Err(Rejection::Mismatch)
    );
    assert_eq!(
        validate_form_with(Algorithm::HmacSha1, &[&key], URL, &PARAMS, SHA256_VECTOR),
        Err(Rejection::Mismatch)
    );
    let url = format!("{URL}&bodySHA256={BODY_HASH}");
    assert!(
        validate_json_with(
            Algorithm::HmacSha256,
            &[&key],
            &url,
            BODY.as_bytes(),
            SHA256_JSON_VECTOR
        )
        .is_ok()
    );
    assert_eq!(
        validate_json_with(
            Algorithm::HmacSha256,
            &[&key],
            &url,
            b"{}",
            SHA256_JSON_VECTOR
        ),
        Err(Rejection::Mismatch)
    );
}

#[test]
fn settings_header() {
    let s = SignatureSettings::parse(SETTINGS).unwrap();
    assert_eq!(s.algorithm, Algorithm::HmacSha256);
    assert_eq!(s.key.as_deref(), Some("KSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_eq!(
        SignatureSettings::parse(" algorithm = hmac_sha1 ")
            .unwrap()
            .algorithm,
        Algorithm::HmacSha1
    );
    for bad in ["key=KS1", "key=KS1,algorithm=HMAC_MD5", "algorithm=", ""] {
        assert!(
            matches!(
                SignatureSettings::parse(bad),
                Err(Rejection::BadEncoding { .. })
            ),
            "{bad:?}"
        );
    }
}

fn form_body() -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in PARAMS {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

fn verify(
    src: &TwilioWebhook,
    sig: &str,
    settings: Option<&str>,
    body: &[u8],
) -> Result<(), Rejection> {
    let mut h = RawHeaders::from_pairs([("X-Twilio-Signature", sig)]);
    if let Some(s) = settings {
        h.insert(SIGNATURE_SETTINGS_HEADER, s.as_bytes().to_vec());
    }
    src.verify(&WebhookRequest::new(&h, body, chrono::Utc::now()))
        .map(|_| ())
}

#[test]
fn the_source_checks_the_algorithm_and_key_the_header_names() {
    let body = form_body();
    let src = TwilioWebhook::new("auth-token", URL).shared_key("12345");
    // Signed with the SharedKey and HMAC-SHA256, as the header says.
    assert_eq!(verify(&src, SHA256_VECTOR, Some(SETTINGS), &body), Ok(()));
    // The same signature without the header is checked as the Auth Token's HMAC-SHA1.
    assert_eq!(
        verify(&src, SHA256_VECTOR, None, &body),
        Err(Rejection::Mismatch)
    );
    // A header naming HMAC_SHA1 with a SHA-256 signature: refused.
    assert_eq!(
        verify(
            &src,
            SHA256_VECTOR,
            Some("key=KS1,algorithm=HMAC_SHA1"),
            &body
        ),
        Err(Rejection::Mismatch)
    );
    // ...and HMAC_SHA1 with the SharedKey is accepted (the official SHA-1 vector, key 12345).
    assert_eq!(
        verify(
            &src,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            Some("key=KS1,algorithm=HMAC_SHA1"),
            &body
        ),
        Ok(())
    );
    // An unknown algorithm is refused, never guessed.
    assert!(matches!(
        verify(
            &src,
            SHA256_VECTOR,
            Some("key=KS1,algorithm=HMAC_SHA512"),
            &body
        ),
        Err(Rejection::BadEncoding { .. })
    ));
    // A tampered body under a good SharedKey signature.
    let mut tampered = body.clone();
    tampered.extend_from_slice(b"&Body=hi");
    assert_eq!(
        verify(&src, SHA256_VECTOR, Some(SETTINGS), &tampered),
        Err(Rejection::Mismatch)
    );
}

#[test]
fn the_auth_token_is_not_tried_when_the_header_names_a_shared_key() {
    let body = form_body();
    // The Auth Token is `12345` here: its HMAC-SHA256 would match, but a request announcing
    // a SharedKey is checked against the SharedKeys only.
    let src = TwilioWebhook::new("12345", URL).shared_key("another-key");
    assert_eq!(
        verify(&src, SHA256_VECTOR, Some(SETTINGS), &body),
        Err(Rejection::Mismatch)
    );
    // No shared key configured at all: refused.
    let src = TwilioWebhook::new("12345", URL);
    assert_eq!(
        verify(&src, SHA256_VECTOR, Some(SETTINGS), &body),
        Err(Rejection::Mismatch)
    );
}

#[test]
fn migration_accepts_both_then_only_the_shared_key() {
    let body = form_body();
    let sha1_auth_token = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    let migrating = TwilioWebhook::new("12345", URL).shared_key("12345");
    assert_eq!(verify(&migrating, sha1_auth_token, None, &body), Ok(()));
    assert_eq!(
        verify(&migrating, SHA256_VECTOR, Some(SETTINGS), &body),
        Ok(())
    );
    let done = migrating.require_shared_key();
    assert_eq!(
        verify(&done, sha1_auth_token, None, &body),
        Err(Rejection::MissingHeader {
            header: SIGNATURE_SETTINGS_HEADER.into()
        })
    );
    assert_eq!(verify(&done, SHA256_VECTOR, Some(SETTINGS), &body), Ok(()));
}

#[test]
fn shared_keys_rotate() {
    let body = form_body();
    let src = TwilioWebhook::new("auth-token", URL)
        .shared_key("new-key")
        .shared_key("12345");
    assert_eq!(verify(&src, SHA256_VECTOR, Some(SETTINGS), &body), Ok(()));
    let params = PARAMS;
    let new_sig = sign_with(Algorithm::HmacSha256, b"new-key", URL, &params);
    assert_eq!(verify(&src, &new_sig, Some(SETTINGS), &body), Ok(()));
    let retired = TwilioWebhook::new("auth-token", URL).shared_key("new-key");
    assert_eq!(
        verify(&retired, SHA256_VECTOR, Some(SETTINGS), &body),
        Err(Rejection::Mismatch)
    );
}

#[test]
fn json_bodies_with_a_shared_key() {
    let src = TwilioWebhook::new("auth-token", URL).shared_key("12345");
    let mut h = RawHeaders::from_pairs([
        ("Content-Type", "application/json"),
        ("X-Twilio-Signature", SHA256_JSON_VECTOR),
    ]);
    h.insert(SIGNATURE_SETTINGS_HEADER, SETTINGS.as_bytes().to_vec());
    let req = |body: &'static [u8]| WebhookRequest::new(&h, body, chrono::Utc::now());
    assert!(src.verify(&req(BODY.as_bytes())).is_ok());
    assert_eq!(src.verify(&req(b"{}")), Err(Rejection::Mismatch));
}
