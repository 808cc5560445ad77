#![allow(clippy::unwrap_used, clippy::expect_used)]
//! OAuth callback HMAC and code exchange.
//!
//! Vectors: Shopify's OAuth verification example (secret `hush`, digest
//! `4712bf92…`, and the variant with `state`, digest `700e2dad…`), as published in
//! Shopify's former OAuth docs and reproduced in the docs of the `exshopify` /
//! `shopify_oauth` packages; and the construction of shopify-app-js
//! `lib/utils/__tests__/hmac-validator.test.ts` (secret `my super secret key`, `+`-encoded
//! values, timestamp 60 s old valid, 91 s old or ahead invalid) and of the older
//! shopify-api-node test (`%20`-encoded values).

use aftercare_shopify::oauth::sign_query;
use aftercare_shopify::{OAuthApp, OAuthRejection};
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn hex_hmac(secret: &str, msg: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(msg.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

#[test]
fn shopify_doc_vectors() {
    let app = OAuthApp::new("id", "hush");
    let q = "code=0907a61c0c8d55e99db179b68161bc00&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&shop=some-shop.myshopify.com&timestamp=1337178173";
    app.verify_signature(q).unwrap();
    // Parameter order does not matter; a leading `?` is fine.
    app.verify_signature("?shop=some-shop.myshopify.com&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&timestamp=1337178173&code=0907a61c0c8d55e99db179b68161bc00").unwrap();
    let with_state = "code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173";
    app.verify_signature(with_state).unwrap();
    // But the 2012 timestamp is outside the window for a real callback.
    assert!(matches!(
        app.verify_callback(q, Utc::now()),
        Err(OAuthRejection::Stale { .. })
    ));
}

#[test]
fn tampered_params_are_refused() {
    let app = OAuthApp::new("id", "hush");
    let good = "code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173";
    for bad in [
        good.replace("some-shop", "evil-shop"),
        good.replace("state=0.678", "state=1.678"),
        good.replace("timestamp=1337178173", "timestamp=1337178174"),
        format!("{good}&extra=1"),
        good.replace("&state=0.6784241404160823", ""),
        good.replace("700e2dad", "700e2dae"),
    ] {
        assert_eq!(
            app.verify_signature(&bad),
            Err(OAuthRejection::Mismatch),
            "{bad}"
        );
    }
    assert_eq!(
        app.verify_signature("code=1&shop=a.myshopify.com"),
        Err(OAuthRejection::MissingHmac)
    );
    assert_eq!(
        app.verify_signature("code=1&hmac=zz"),
        Err(OAuthRejection::BadHmacEncoding)
    );
    assert_eq!(
        OAuthApp::new("id", "not hush").verify_signature(good),
        Err(OAuthRejection::Mismatch)
    );
}

#[test]
fn shopify_app_js_construction_and_timestamp_window() {
    let secret = "my super secret key";
    let app = OAuthApp::new("id", secret);
    let now = Utc::now();
    for (age, ok) in [(60i64, true), (-60, true), (91, false), (-91, false)] {
        let ts = (now.timestamp() - age).to_string();
        // shopify-app-js signs `+`-encoded values (URLSearchParams).
        let signed = format!(
            "code=some+code+goes+here&shop=the+shop+URL&state=some+nonce+passed+from+auth&timestamp={ts}"
        );
        let hmac = hex_hmac(secret, &signed);
        let q = format!("{signed}&hmac={hmac}");
        app.verify_signature(&q).unwrap();
        let r = app.verify_callback(&q, now);
        if ok {
            // Signature and time are fine; `the shop URL` is not a shop domain.
            assert_eq!(r, Err(OAuthRejection::BadShop("the shop URL".into())));
        } else {
            assert!(
                matches!(r, Err(OAuthRejection::Stale { .. })),
                "{age}: {r:?}"
            );
        }
    }
    // The older library signed `%20`-encoded values.
    let signed = "code=some%20code%20goes%20here&shop=the%20shop%20URL&state=some%20nonce%20passed%20from%20auth&timestamp=a%20number%20as%20a%20string";
    let q = format!("{signed}&hmac={}", hex_hmac(secret, signed));
    app.verify_signature(&q).unwrap();
    // Extra keys are part of the signed message.
    let signed = "code=c&foo=bar&shop=s.myshopify.com&timestamp=1";
    let q = format!("{signed}&hmac={}", hex_hmac(secret, signed));
    app.verify_signature(&q).unwrap();
    assert!(
        app.verify_signature(&q.replace("foo=bar", "foo=baz"))
            .is_err()
    );
}

#[test]
fn verified_callback_params() {
    let app = OAuthApp::new("id", "secret");
    let ts = Utc::now().timestamp().to_string();
    let q = sign_query(
        b"secret",
        &[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw=="),
            ("shop", "demo.myshopify.com"),
            ("state", "nonce-1"),
            ("timestamp", &ts),
        ],
    );
    let cb = app.verify_callback(&q, Utc::now()).unwrap();
    assert_eq!(cb.shop, "demo.myshopify.com");
    assert_eq!(cb.state.as_deref(), Some("nonce-1"));
    assert_eq!(
        cb.host.as_deref(),
        Some("YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw==")
    );
    // A signed but hostile shop domain is refused.
    let q = sign_query(
        b"secret",
        &[("code", "c"), ("shop", "evil.com"), ("timestamp", &ts)],
    );
    assert_eq!(
        app.verify_callback(&q, Utc::now()),
        Err(OAuthRejection::BadShop("evil.com".into()))
    );
}

#[tokio::test]
async fn code_exchange() {
    // https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/admin/oauth/access_token"))
        .and(body_json(
            serde_json::json!({"client_id": "id", "client_secret": "secret", "code": "good"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "f85632530bf277ec9ac6f649fc327f17",
            "scope": "write_orders,read_customers"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/admin/oauth/access_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_request",
            "error_description": "The authorization code was not found or was already used"
        })))
        .mount(&server)
        .await;
    let app = OAuthApp::new("id", "secret");
    let ts = Utc::now().timestamp().to_string();
    let base = url::Url::parse(&server.uri()).unwrap();
    let http = reqwest::Client::new();
    let cb = app
        .verify_callback(
            &sign_query(
                b"secret",
                &[
                    ("code", "good"),
                    ("shop", "demo.myshopify.com"),
                    ("timestamp", &ts),
                ],
            ),
            Utc::now(),
        )
        .unwrap();
    let tok = app.exchange_code(&http, &cb, Some(&base)).await.unwrap();
    assert_eq!(tok.token.expose(), b"f85632530bf277ec9ac6f649fc327f17");
    assert_eq!(tok.scope, "write_orders,read_customers");
    assert!(!format!("{tok:?}").contains("f85632530bf277ec"));
    let cb = app
        .verify_callback(
            &sign_query(
                b"secret",
                &[
                    ("code", "used"),
                    ("shop", "demo.myshopify.com"),
                    ("timestamp", &ts),
                ],
            ),
            Utc::now(),
        )
        .unwrap();
    let err = app
        .exchange_code(&http, &cb, Some(&base))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("The authorization code was not found"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}
