//! The single-click app flow: the auth callback's code exchange against a stand-in of
//! `https://login.bigcommerce.com/oauth2/token` shaped as "Single-Click App OAuth Flow"
//! (developer.bigcommerce.com `/api-docs/apps/guide/auth`: request body and "Example
//! response: Create an access_token"), and the `signed_payload_jwt` of the load, uninstall
//! and remove_user callbacks ("Handling Single-Click App Callbacks",
//! `/api-docs/apps/guide/callbacks`: "Working with payload claims").

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, Keyring, MemoryRegistry, ShopStatus, Tenancy};
use aftercare::webhook::Secret;
use aftercare_bigcommerce::install::{
    AuthCallback, BigCommerceApp, BigCommerceInstaller, InstallRejection, verify_hs256,
};
use aftercare_bigcommerce::{AFTERCARE_SCOPES, BigCommerceError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone as _, Utc};
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_ID: &str = "iu4mk0piq5r664w687c1d6lv84mz1s9";
const CLIENT_SECRET: &str = "ntb1kcxa1do55wf0h25ps7h94fnsoi6";
const REDIRECT: &str = "https://aftercare.example/bigcommerce/auth";

fn now() -> DateTime<Utc> {
    // The docs' example claims: iat 1640037763, exp 1640124163.
    Utc.timestamp_opt(1_640_037_800, 0).unwrap()
}

/// A JWT as BigCommerce signs it: HS256 with `secret`.
fn sign(claims: &Value, secret: &str, alg: &str) -> String {
    let h = URL_SAFE_NO_PAD.encode(json!({"typ": "JWT", "alg": alg}).to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{h}.{c}").as_bytes());
    let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h}.{c}.{s}")
}

/// The docs' example payload claims, for `store`.
fn claims(store: &str) -> Value {
    json!({
        "aud": CLIENT_ID,
        "iss": "bc",
        "iat": 1640037763,
        "nbf": 1640037758,
        "exp": 1640124163,
        "jti": "c5f0bcf5-a504-4ae6-8dcc-0e40eaa5a070",
        "sub": format!("stores/{store}"),
        "user": {"id": 9128, "email": "user@mybigcommerce.com"},
        "owner": {"id": 9128, "email": "user@mybigcommerce.com"},
        "url": "/"
    })
}

fn app() -> BigCommerceApp {
    BigCommerceApp::new(CLIENT_ID, Secret::from(CLIENT_SECRET))
}

/// RFC 7515 appendix A.1: the HS256 example JWS and its key.
#[test]
fn rfc7515_hs256_vector() {
    let key = URL_SAFE_NO_PAD
        .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
        .unwrap();
    let jws = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let claims = verify_hs256(jws, &key).unwrap();
    assert_eq!(
        claims,
        b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
    );
    // One bit of the signature changed, or another key: refused.
    let tampered = jws.replace("dBjft", "dBjfu");
    assert_eq!(
        verify_hs256(&tampered, &key),
        Err(InstallRejection::Signature)
    );
    assert_eq!(
        verify_hs256(jws, b"another key"),
        Err(InstallRejection::Signature)
    );
}

#[test]
fn the_docs_claims_verify_and_name_the_store() {
    let c = app()
        .verify_jwt(&sign(&claims("z4zn3wo"), CLIENT_SECRET, "HS256"), now())
        .unwrap();
    assert_eq!(c.store_hash, "z4zn3wo");
    assert_eq!(c.user_id, Some(9128));
    assert_eq!(c.owner_id, Some(9128));
}

#[test]
fn forged_or_foreign_jwts_are_refused() {
    let a = app();
    let t = now();
    // Signed with another secret.
    assert_eq!(
        a.verify_jwt(&sign(&claims("z4zn3wo"), "not-the-secret", "HS256"), t),
        Err(InstallRejection::Signature)
    );
    // Another app's (aud).
    let mut c = claims("z4zn3wo");
    c["aud"] = json!("someone-elses-client-id");
    assert_eq!(
        a.verify_jwt(&sign(&c, CLIENT_SECRET, "HS256"), t),
        Err(InstallRejection::Audience)
    );
    // Not issued by BigCommerce.
    let mut c = claims("z4zn3wo");
    c["iss"] = json!("evil");
    assert_eq!(
        a.verify_jwt(&sign(&c, CLIENT_SECRET, "HS256"), t),
        Err(InstallRejection::Issuer)
    );
    // Expired (a day after the docs' `exp`).
    let later = Utc.timestamp_opt(1_640_124_163 + 86_400, 0).unwrap();
    assert_eq!(
        a.verify_jwt(&sign(&claims("z4zn3wo"), CLIENT_SECRET, "HS256"), later),
        Err(InstallRejection::Expired)
    );
    // Not valid yet.
    let earlier = Utc.timestamp_opt(1_640_037_758 - 3_600, 0).unwrap();
    assert_eq!(
        a.verify_jwt(&sign(&claims("z4zn3wo"), CLIENT_SECRET, "HS256"), earlier),
        Err(InstallRejection::Expired)
    );
    // No expiry at all.
    let mut c = claims("z4zn3wo");
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        a.verify_jwt(&sign(&c, CLIENT_SECRET, "HS256"), t),
        Err(InstallRejection::Expired)
    );
    // `sub` not a store.
    let mut c = claims("z4zn3wo");
    c["sub"] = json!("users/9128");
    assert!(matches!(
        a.verify_jwt(&sign(&c, CLIENT_SECRET, "HS256"), t),
        Err(InstallRejection::BadContext(_))
    ));
    // `alg: none` with no signature, and HS512: refused before any claim is read.
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims("z4zn3wo").to_string());
    assert_eq!(
        a.verify_jwt(&format!("{h}.{body}."), t),
        Err(InstallRejection::Algorithm("none".into()))
    );
    assert!(matches!(
        a.verify_jwt(&sign(&claims("z4zn3wo"), CLIENT_SECRET, "HS512"), t),
        Err(InstallRejection::Algorithm(_))
    ));
    assert_eq!(
        a.verify_jwt("only.two", t),
        Err(InstallRejection::Malformed)
    );
}

static DIRS: AtomicU32 = AtomicU32::new(0);

async fn tenancy() -> Arc<Tenancy> {
    let dir = std::env::temp_dir().join(format!(
        "aftercare-bc-install-{}-{}",
        std::process::id(),
        DIRS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let shops = aftercare_sqlite::SqliteShops::new(dir).unwrap();
    Arc::new(Tenancy::new(
        Arc::new(MemoryRegistry::default()),
        Arc::new(shops),
        Keyring::new("k1", &[7u8; 32]).unwrap(),
    ))
}

/// The token endpoint as the auth guide shows it: the JSON body it documents, the answer
/// of "Example response: Create an access_token".
async fn token_endpoint(server: &MockServer, code: &str, store: &str, token: &str) {
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(header("accept", "application/json"))
        .and(body_json(json!({
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "context": format!("stores/{store}"),
            "scope": "store_v2_orders store_channel_listings_read_only",
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token,
            "scope": "store_v2_orders store_channel_listings_read_only",
            "user": {"id": 24654, "username": "merchant@example.com", "email": "merchant@example.com"},
            "context": format!("stores/{store}"),
            "account_uuid": "12345678-90ab-cdef-1234-567890abcdef"
        })))
        .mount(server)
        .await;
}

/// `/v3/hooks` as `webhooks.v3.yml` shows it, empty at first; creations echoed back.
async fn hooks_api(server: &MockServer) {
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"^/stores/[a-z0-9]+/v3/hooks$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [],
            "meta": {"pagination": {"total": 0, "count": 0, "per_page": 250, "current_page": 1, "total_pages": 1, "links": {}}}
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex(
            r"^/stores/[a-z0-9]+/v3/hooks$",
        ))
        .respond_with(|req: &wiremock::Request| {
            let mut body: Value = serde_json::from_slice(&req.body).unwrap();
            body["id"] = json!(18048287);
            body["client_id"] = json!(CLIENT_ID);
            body["created_at"] = json!(1561488106);
            body["updated_at"] = json!(1561488106);
            ResponseTemplate::new(200).set_body_json(json!({"data": body, "meta": {}}))
        })
        .mount(server)
        .await;
}

fn installer(tenancy: Arc<Tenancy>, server: &MockServer) -> BigCommerceInstaller {
    BigCommerceInstaller::new(app(), tenancy, REDIRECT, "https://aftercare.example")
        .token_url(format!("{}/oauth2/token", server.uri()))
        .api_base(url::Url::parse(&server.uri()).unwrap())
}

fn callback(code: &str, store: &str) -> AuthCallback {
    AuthCallback::new(
        code,
        "store_v2_orders store_channel_listings_read_only",
        format!("stores/{store}"),
    )
}

#[tokio::test]
async fn install_records_the_store_sealed_and_subscribes_its_hooks() {
    let server = MockServer::start().await;
    token_endpoint(
        &server,
        "qr6h3thvbvag2ffq",
        "g5cd38",
        "xxxxalphanumstringxxxx",
    )
    .await;
    hooks_api(&server).await;
    let t = tenancy().await;
    let inst = installer(t.clone(), &server);
    let done = inst
        .complete(&callback("qr6h3thvbvag2ffq", "g5cd38"), now())
        .await
        .unwrap();
    let shop = ShopId::new("g5cd38");
    assert_eq!(done.installed.scope.shop(), &shop);
    assert_eq!(
        done.installed.scope.secret(ACCESS_TOKEN).unwrap().expose(),
        b"xxxxalphanumstringxxxx"
    );
    // Sealed at rest: the record holds no token in clear.
    let record = t.record(&shop).await.unwrap().unwrap();
    assert_eq!(record.platform, "bigcommerce");
    assert!(
        !serde_json::to_string(&record)
            .unwrap()
            .contains("xxxxalphanumstringxxxx")
    );
    assert_eq!(done.hooks.created.len(), AFTERCARE_SCOPES.len());
    // Every hook goes to the store's own route.
    let posts: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/v3/hooks"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(posts.len(), AFTERCARE_SCOPES.len());
    for p in &posts {
        assert_eq!(
            p["destination"],
            "https://aftercare.example/shops/g5cd38/webhooks/bigcommerce"
        );
    }
    assert!(
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().contains("/v3/hooks"))
            .all(|r| r.url.path().starts_with("/stores/g5cd38/")
                && r.headers.get("x-auth-token").unwrap() == "xxxxalphanumstringxxxx")
    );
}

#[tokio::test]
async fn a_token_for_another_store_or_a_partial_callback_records_nothing() {
    let server = MockServer::start().await;
    // BigCommerce answers for `g5cd38` whatever store the callback named.
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok",
            "scope": "store_v2_orders",
            "user": {"id": 1, "username": "m@example.com", "email": "m@example.com"},
            "context": "stores/g5cd38",
            "account_uuid": "12345678-90ab-cdef-1234-567890abcdef"
        })))
        .mount(&server)
        .await;
    let t = tenancy().await;
    let inst = installer(t.clone(), &server);
    let err = inst
        .complete(&callback("c", "other1"), now())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        BigCommerceError::Install(InstallRejection::OtherStore { .. })
    ));
    let err = inst
        .complete(&AuthCallback::new("c", "", "stores/g5cd38"), now())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        BigCommerceError::Install(InstallRejection::MissingParam("scope"))
    ));
    let err = inst
        .complete(&AuthCallback::new("c", "s", "stores/../x"), now())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        BigCommerceError::Install(InstallRejection::BadContext(_))
    ));
    assert!(t.records().await.unwrap().is_empty());
    // A refused code (BigCommerce's 4xx): nothing recorded either.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "Invalid code"})))
        .mount(&server)
        .await;
    let inst = installer(t.clone(), &server);
    let err = inst
        .complete(&callback("c", "g5cd38"), now())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(!err.is_retryable());
    assert!(t.records().await.unwrap().is_empty());
}

#[tokio::test]
async fn uninstall_acts_on_the_signed_store_only() {
    let server = MockServer::start().await;
    token_endpoint(&server, "code-a", "storea", "token-a").await;
    token_endpoint(&server, "code-b", "storeb", "token-b").await;
    hooks_api(&server).await;
    let t = tenancy().await;
    let inst = installer(t.clone(), &server);
    inst.complete(&callback("code-a", "storea"), now())
        .await
        .unwrap();
    inst.complete(&callback("code-b", "storeb"), now())
        .await
        .unwrap();
    // Load: store A's JWT opens store A.
    let c = inst
        .load(&sign(&claims("storea"), CLIENT_SECRET, "HS256"), now())
        .await
        .unwrap();
    assert_eq!(c.store_hash, "storea");
    // A forged uninstall for B changes nothing.
    let forged = sign(&claims("storeb"), "guessed-secret", "HS256");
    assert!(inst.uninstall(&forged, now()).await.is_err());
    assert_eq!(
        t.record(&ShopId::new("storeb"))
            .await
            .unwrap()
            .unwrap()
            .status,
        ShopStatus::Installed
    );
    // A's signed uninstall stops A and only A.
    let (shop, was) = inst
        .uninstall(&sign(&claims("storea"), CLIENT_SECRET, "HS256"), now())
        .await
        .unwrap();
    assert_eq!(shop, ShopId::new("storea"));
    assert!(was);
    let a = t.record(&ShopId::new("storea")).await.unwrap().unwrap();
    assert_eq!(a.status, ShopStatus::Uninstalled);
    assert!(a.erase_after.is_some());
    assert!(!a.secrets.contains_key(ACCESS_TOKEN));
    assert!(t.scope(&ShopId::new("storea")).await.is_err());
    assert!(t.scope(&ShopId::new("storeb")).await.is_ok());
    // Loading the uninstalled store is refused.
    assert!(matches!(
        inst.load(&sign(&claims("storea"), CLIENT_SECRET, "HS256"), now())
            .await,
        Err(BigCommerceError::Install(InstallRejection::NotInstalled(_)))
    ));
    // remove_user: verified, nothing to remove.
    assert!(
        inst.remove_user(&sign(&claims("storeb"), CLIENT_SECRET, "HS256"), now())
            .is_ok()
    );
    assert!(
        inst.remove_user(&sign(&claims("storeb"), "x", "HS256"), now())
            .is_err()
    );
}

/// A small deterministic generator for the mutation loops below (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The signed payload is outside bytes: every mutation of a valid token (a byte changed,
/// dropped or added, a dot moved, the token cut) is refused and never panics, and random
/// bytes are refused too. 20,000 mutations, a fixed seed so a failure reproduces.
#[test]
fn mutated_or_random_tokens_are_refused_without_panicking() {
    let good = sign(&claims("z4zn3wo"), CLIENT_SECRET, "HS256");
    assert!(app().verify_jwt(&good, now()).is_ok());
    let alphabet = b"ABCxyz0189-_.=+/ \x00\xff";
    let mut rng = Rng(0x5EED_2026_1207);
    for _ in 0..20_000 {
        let mut t = good.clone().into_bytes();
        for _ in 0..=rng.below(3) {
            if t.is_empty() {
                break;
            }
            let at = rng.below(t.len());
            match rng.below(4) {
                0 => t[at] = alphabet[rng.below(alphabet.len())],
                1 => {
                    t.remove(at);
                }
                2 => t.insert(at, alphabet[rng.below(alphabet.len())]),
                _ => t.truncate(at),
            }
        }
        let text = String::from_utf8_lossy(&t).into_owned();
        if text == good {
            continue;
        }
        assert!(
            app().verify_jwt(&text, now()).is_err(),
            "a changed token was accepted: {text}"
        );
    }
    for _ in 0..2_000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(app().verify_jwt(&text, now()).is_err());
    }
}

/// A correctly signed token whose claims are not the claims BigCommerce sends (any JSON
/// value, a claim of the wrong type, bytes that are not JSON) is refused, never accepted by
/// default and never a panic.
#[test]
fn signed_tokens_with_odd_claims_are_refused() {
    let odd = [
        json!(null),
        json!([]),
        json!("stores/z4zn3wo"),
        json!({"aud": CLIENT_ID, "iss": "bc", "sub": "stores/z4zn3wo"}),
        json!({"aud": 7, "iss": "bc", "exp": 1640124163, "sub": "stores/z4zn3wo"}),
        json!({"aud": CLIENT_ID, "iss": ["bc"], "exp": 1640124163, "sub": "stores/z4zn3wo"}),
        json!({"aud": CLIENT_ID, "iss": "bc", "exp": "1640124163", "sub": "stores/z4zn3wo"}),
        json!({"aud": CLIENT_ID, "iss": "bc", "exp": 1e300, "sub": "stores/z4zn3wo"}),
        json!({"aud": CLIENT_ID, "iss": "bc", "exp": 1640124163, "sub": "stores/"}),
        json!({"aud": CLIENT_ID, "iss": "bc", "exp": 1640124163, "sub": "stores/../x"}),
        json!({"aud": CLIENT_ID, "iss": "bc", "exp": 1640124163, "sub": 5}),
    ];
    for c in &odd {
        let t = sign(c, CLIENT_SECRET, "HS256");
        assert!(app().verify_jwt(&t, now()).is_err(), "accepted: {c}");
    }
    // Claims that are not JSON at all, correctly signed.
    let h = URL_SAFE_NO_PAD.encode(json!({"typ": "JWT", "alg": "HS256"}).to_string());
    for raw in [&b"not json"[..], b"", b"{\"aud\":", &[0xff, 0xfe, 0x00]] {
        let c = URL_SAFE_NO_PAD.encode(raw);
        let mut mac = Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).unwrap();
        mac.update(format!("{h}.{c}").as_bytes());
        let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert!(app().verify_jwt(&format!("{h}.{c}.{s}"), now()).is_err());
    }
}
