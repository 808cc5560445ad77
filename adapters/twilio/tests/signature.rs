#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `X-Twilio-Signature` against the official vectors of Twilio's helper libraries:
//! twilio/twilio-python `tests/unit/test_request_validator.py`,
//! twilio/twilio-node `spec/validation.spec.js` and `spec/unit/webhooks/webhooks.spec.js`,
//! twilio/twilio-go `client/request_validator_test.go`.

use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_twilio::signature::{body_sha256, sign, validate_form, validate_json};
use aftercare_twilio::webhook::{TOPIC_INBOUND, TOPIC_JSON, TOPIC_STATUS, TwilioWebhook};

const TOKEN: &str = "12345";
const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const PARAMS: [(&str, &str); 5] = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
];
const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
const BODY: &str = "{\"property\": \"value\", \"boolean\": true}";
const BODY_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

fn token() -> Secret {
    Secret::from(TOKEN)
}

fn ok(url: &str, params: &[(&str, &str)], sig: &str) -> bool {
    validate_form(&token(), url, params, sig).is_ok()
}

// ---- twilio-python / twilio-go / twilio-node: compute and validate

#[test]
fn python_compute_signature() {
    assert_eq!(sign(TOKEN.as_bytes(), URL, &PARAMS), EXPECTED);
}

#[test]
fn python_compute_hash_unicode() {
    assert_eq!(body_sha256(BODY.as_bytes()), BODY_HASH);
}

#[test]
fn python_duplicate_params_sorted_values() {
    // MultiDict([("Sid","CA123"),("SidAccount","AC123"),("Digits","5678"),("Digits","1234")])
    let params = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
    ];
    assert_eq!(
        sign(TOKEN.as_bytes(), URL, &params),
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
}

#[test]
fn node_duplicate_values_are_deduplicated() {
    // Digits: ["5678", "1234", "1234"] → same signature as above.
    let params = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ];
    assert!(ok(URL, &params, "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
}

#[test]
fn node_array_parameter_in_any_order() {
    let a = [
        ("MessagingBinding.Address", "+1325xxxxxxx"),
        ("MessagingBinding.Address", "+1415xxxxxxx"),
    ];
    let b = [
        ("MessagingBinding.Address", "+1415xxxxxxx"),
        ("MessagingBinding.Address", "+1325xxxxxxx"),
    ];
    assert!(ok(URL, &a, "83O6e2vORAoJHUNzJjDWN1jz+BA="));
    assert!(ok(URL, &b, "83O6e2vORAoJHUNzJjDWN1jz+BA="));
}

#[test]
fn python_validation() {
    assert!(ok(URL, &PARAMS, EXPECTED));
}

#[test]
fn wrong_signature_refused() {
    assert_eq!(
        validate_form(&token(), URL, &PARAMS, "WRONG_SIGNATURE"),
        Err(Rejection::BadEncoding {
            header: "X-Twilio-Signature".into(),
            expected: "base64",
        })
    );
    // Well-formed base64 but not the signature.
    assert_eq!(
        validate_form(&token(), URL, &PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        Err(Rejection::Mismatch)
    );
}

#[test]
fn python_removes_port_on_https() {
    assert!(ok(&URL.replace(".com", ".com:1234"), &PARAMS, EXPECTED));
}

#[test]
fn python_removes_port_on_http() {
    let url = URL.replace(".com", ".com:1234").replace("https", "http");
    assert!(ok(&url, &PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
}

#[test]
fn python_adds_port_on_https() {
    assert!(ok(URL, &PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="));
}

#[test]
fn python_adds_port_on_http() {
    assert!(ok(
        &URL.replace("https", "http"),
        &PARAMS,
        "0ZXoZLH/DfblKGATFgpif+LLRf4="
    ));
}

#[test]
fn node_urls_with_credentials() {
    let url = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
    assert!(ok(url, &PARAMS, "CukzLTc1tT5dXEDIHm/tKBanW10="));
    assert!(
        ok(url, &PARAMS, "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="),
        "with port 443 added"
    );
    let user_only = "https://user@mycompany.com/myapp.php?foo=1&bar=2";
    assert!(ok(user_only, &PARAMS, "2YRLlVAflCqxaNicjMpJcSTgzSs="));
}

#[test]
fn node_urls_with_special_characters() {
    let url = format!("{URL}&Body=It's+amazing");
    assert!(ok(&url, &PARAMS, "dsq4Ehbj6cs+KdTkpF5sSSplOWw="));
}

#[test]
fn node_legacy_querystring_quote_forms_are_equivalent() {
    // spec/unit/webhooks/webhooks.spec.js: a signature over `'` validates the `%27` form
    // and the reverse.
    let plain = "https://example.com/path?test=param'WithQuote";
    let escaped = "https://example.com/path?test=param%27WithQuote";
    let no: [(&str, &str); 0] = [];
    let s = sign(b"s3cr3t", plain, &no);
    assert!(validate_form(&Secret::from("s3cr3t"), escaped, &no, &s).is_ok());
    assert!(validate_form(&Secret::from("s3cr3t"), plain, &no, &s).is_ok());
    // And a different query value is refused (`test=param` vs `test=param2`).
    let s = sign(b"s3cr3t", "https://example.com/path?test=param", &no);
    assert!(
        validate_form(
            &Secret::from("s3cr3t"),
            "https://example.com/path?test=param2",
            &no,
            &s
        )
        .is_err()
    );
}

#[test]
fn node_port_forms_both_directions() {
    let no: [(&str, &str); 0] = [];
    let key = Secret::from("s3cr3t");
    let with = "https://example.com:443/path?test=param";
    let without = "https://example.com/path?test=param";
    for signed in [with, without] {
        let s = sign(b"s3cr3t", signed, &no);
        for target in [with, without] {
            assert!(
                validate_form(&key, target, &no, &s).is_ok(),
                "{signed} → {target}"
            );
        }
    }
}

// ---- JSON bodies (bodySHA256)

#[test]
fn python_validation_of_body_succeeds() {
    let url = format!("{URL}&bodySHA256={BODY_HASH}");
    assert!(
        validate_json(
            &token(),
            &url,
            BODY.as_bytes(),
            "a9nBmqA0ju/hNViExpshrM61xv4="
        )
        .is_ok()
    );
}

#[test]
fn node_validate_request_body_when_empty() {
    let url = format!(
        "{URL}&bodySHA256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert!(validate_json(&token(), &url, b"{}", "Ldidvp12m26NI7eqEvxnEpkd9Hc=").is_ok());
}

#[test]
fn go_body_with_only_sha_param() {
    let url = format!("https://mycompany.com/myapp.php?bodySHA256={BODY_HASH}");
    assert!(
        validate_json(
            &token(),
            &url,
            BODY.as_bytes(),
            "y77kIzt2vzLz71DgmJGsen2scGs="
        )
        .is_ok()
    );
}

#[test]
fn go_body_without_hash_param_refused() {
    assert!(validate_json(&token(), URL, BODY.as_bytes(), EXPECTED).is_err());
}

#[test]
fn tampered_json_body_refused() {
    let url = format!("{URL}&bodySHA256={BODY_HASH}");
    let tampered = BODY.replace("true", "false");
    assert_eq!(
        validate_json(
            &token(),
            &url,
            tampered.as_bytes(),
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ),
        Err(Rejection::Mismatch)
    );
}

// ---- refusals

#[test]
fn tampered_parameter_refused() {
    let mut p = PARAMS;
    p[1] = ("Digits", "1235");
    assert_eq!(
        validate_form(&token(), URL, &p, EXPECTED),
        Err(Rejection::Mismatch)
    );
    // An added parameter is refused too.
    let mut extra = PARAMS.to_vec();
    extra.push(("Body", "hi"));
    assert_eq!(
        validate_form(&token(), URL, &extra, EXPECTED),
        Err(Rejection::Mismatch)
    );
    // And a changed query string.
    assert_eq!(
        validate_form(
            &token(),
            &format!("{URL}&somethingUnexpected=true"),
            &PARAMS,
            EXPECTED
        ),
        Err(Rejection::Mismatch)
    );
}

#[test]
fn wrong_port_variant_refused() {
    // Signed over a non-default port, checked against the configured URL without one.
    let s_8443 = sign(TOKEN.as_bytes(), &URL.replace(".com", ".com:8443"), &PARAMS);
    assert_eq!(
        validate_form(&token(), URL, &PARAMS, &s_8443),
        Err(Rejection::Mismatch)
    );
    // Signed with http's default port on an https URL.
    let s_80 = sign(TOKEN.as_bytes(), &URL.replace(".com", ".com:80"), &PARAMS);
    assert_eq!(
        validate_form(&token(), URL, &PARAMS, &s_80),
        Err(Rejection::Mismatch)
    );
    // The http :80 vector does not validate for the https URL.
    assert!(!ok(URL, &PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4="));
}

#[test]
fn wrong_token_refused() {
    assert!(validate_form(&Secret::from("54321"), URL, &PARAMS, EXPECTED).is_err());
}

// ---- the WebhookSource

fn form_body(params: &[(&str, &str)]) -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

fn request<'a>(headers: &'a RawHeaders, body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest::new(headers, body, chrono::Utc::now())
}

#[test]
fn source_accepts_official_vector_and_sets_topic() {
    let src = TwilioWebhook::new(TOKEN, URL);
    let body = form_body(&PARAMS);
    let h = RawHeaders::from_pairs([("X-Twilio-Signature", EXPECTED)]);
    let v = src.verify(&request(&h, &body)).unwrap();
    assert_eq!(v.topic.as_deref(), Some(TOPIC_INBOUND));
    // No MessageSid: the body hash is the key.
    assert_eq!(v.dedupe_key, aftercare::webhook::body_hash_key(&body));
}

#[test]
fn source_refuses_missing_header() {
    let src = TwilioWebhook::new(TOKEN, URL);
    let body = form_body(&PARAMS);
    let h = RawHeaders::new();
    assert_eq!(
        src.verify(&request(&h, &body)),
        Err(Rejection::MissingHeader {
            header: "X-Twilio-Signature".into()
        })
    );
    let blank = RawHeaders::from_pairs([("X-Twilio-Signature", "  ")]);
    assert!(matches!(
        src.verify(&request(&blank, &body)),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[test]
fn source_refuses_tampered_body() {
    let src = TwilioWebhook::new(TOKEN, URL);
    let mut p = PARAMS;
    p[3] = ("To", "+18005551213");
    let body = form_body(&p);
    let h = RawHeaders::from_pairs([("X-Twilio-Signature", EXPECTED)]);
    assert_eq!(src.verify(&request(&h, &body)), Err(Rejection::Mismatch));
}

#[test]
fn source_dedupe_keys_and_topics() {
    let url = "https://shop.example/webhooks/twilio";
    let src = TwilioWebhook::new("tok", url);
    let status = b"MessageSid=SM1&MessageStatus=delivered&AccountSid=AC1";
    let h = RawHeaders::from_pairs([("X-Twilio-Signature", src.sign(status))]);
    let v = src.verify(&request(&h, status)).unwrap();
    assert_eq!(v.dedupe_key, "SM1:delivered");
    assert_eq!(v.topic.as_deref(), Some(TOPIC_STATUS));
    assert_eq!(v.meta.get("account_sid").map(String::as_str), Some("AC1"));

    let inbound = b"MessageSid=SM2&SmsStatus=received&From=%2B1555&To=%2B1666&Body=hi";
    let h = RawHeaders::from_pairs([("X-Twilio-Signature", src.sign(inbound))]);
    let v = src.verify(&request(&h, inbound)).unwrap();
    assert_eq!(v.dedupe_key, "SM2");
    assert_eq!(v.topic.as_deref(), Some(TOPIC_INBOUND));
}

#[test]
fn source_json_body_variant() {
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let src = TwilioWebhook::new(TOKEN, url);
    let h = RawHeaders::from_pairs([
        ("Content-Type", "application/json"),
        ("X-Twilio-Signature", "a9nBmqA0ju/hNViExpshrM61xv4="),
    ]);
    let v = src.verify(&request(&h, BODY.as_bytes())).unwrap();
    assert_eq!(v.topic.as_deref(), Some(TOPIC_JSON));
    assert_eq!(
        src.sign_json(BODY.as_bytes()),
        "a9nBmqA0ju/hNViExpshrM61xv4="
    );
    // Another body under the same signature is refused.
    assert_eq!(src.verify(&request(&h, b"{}")), Err(Rejection::Mismatch));
}

// ---- the configured URL's scheme and host are compared case-insensitively, as twilio-node
// does (it parses the URL with `new URL()`, which lower-cases them); path and query are not.

#[test]
fn mixed_case_scheme_and_host_are_accepted() {
    for url in [
        "HTTPS://MyCompany.COM/myapp.php?foo=1&bar=2",
        "https://MYCOMPANY.com/myapp.php?foo=1&bar=2",
        "Https://mycompany.com:443/myapp.php?foo=1&bar=2",
    ] {
        assert!(ok(url, &PARAMS, EXPECTED), "{url}");
    }
    let src = TwilioWebhook::new(TOKEN, "HTTPS://MyCompany.COM/myapp.php?foo=1&bar=2");
    let body = form_body(&PARAMS);
    let h = RawHeaders::from_pairs([("X-Twilio-Signature", EXPECTED)]);
    assert!(src.verify(&request(&h, &body)).is_ok());
}

#[test]
fn path_and_query_stay_case_sensitive() {
    for url in [
        "https://mycompany.com/MyApp.php?foo=1&bar=2",
        "https://mycompany.com/myapp.php?FOO=1&bar=2",
        "HTTPS://MyCompany.COM/myapp.PHP?foo=1&bar=2",
    ] {
        assert_eq!(
            validate_form(&token(), url, &PARAMS, EXPECTED),
            Err(Rejection::Mismatch),
            "{url}"
        );
    }
}
