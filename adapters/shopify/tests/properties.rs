#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties of the exact conversions and of the OAuth signature.

use aftercare_shopify::oauth::sign_query;
use aftercare_shopify::{OAuthApp, numeric_id, parse_money};
use proptest::prelude::*;

proptest! {
    #[test]
    fn money_round_trips_exactly(units in -10_000_000_000_000i64..10_000_000_000_000i64) {
        // Format as Shopify does ("135.49") and parse back: never off by a cent.
        let sign = if units < 0 { "-" } else { "" };
        let a = units.unsigned_abs();
        let text = format!("{sign}{}.{:02}", a / 100, a % 100);
        prop_assert_eq!(parse_money(&text, "USD").unwrap().minor_units, units);
        let text3 = format!("{sign}{}.{:03}", a / 1000, a % 1000);
        prop_assert_eq!(parse_money(&text3, "KWD").unwrap().minor_units, units);
    }

    #[test]
    fn gid_ids_round_trip(id in any::<u64>(), kind in "[A-Z][a-zA-Z]{2,20}") {
        let gid = aftercare_shopify::gid(&kind, &id.to_string());
        prop_assert_eq!(numeric_id(&gid), id.to_string());
    }

    #[test]
    fn signed_queries_verify_and_tampering_fails(
        code in "[a-f0-9]{32}",
        state in "[ -~]{1,24}",
        host in "[A-Za-z0-9+/]{4,40}={0,2}",
        flip in 0usize..4,
    ) {
        let app = OAuthApp::new("id", "secret");
        let ts = chrono::Utc::now().timestamp().to_string();
        let params = [("code", code.as_str()), ("host", host.as_str()), ("shop", "demo.myshopify.com"), ("state", state.as_str()), ("timestamp", ts.as_str())];
        let q = sign_query(b"secret", &params);
        prop_assert!(app.verify_callback(&q, chrono::Utc::now()).is_ok());
        let mut tampered: Vec<(&str, String)> = params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        tampered[flip].1.push('x');
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &tampered {
            ser.append_pair(k, v);
        }
        let hmac = url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "hmac").unwrap().1.into_owned();
        ser.append_pair("hmac", &hmac);
        prop_assert!(app.verify_signature(&ser.finish()).is_err());
    }
}
