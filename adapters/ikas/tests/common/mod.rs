//! What the tests share: the merchant, the fixtures, signed envelopes, a client pointed at
//! a GraphQL stand-in.
#![allow(dead_code)]

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::webhook::Secret;
use aftercare_ikas::{IkasAuth, IkasClient, IkasConfig, IkasWebhooks};
use serde_json::Value;

pub const MERCHANT: &str = "4c7e5b1a-2f3d-4a6b-9c8d-0e1f2a3b4c5d";
pub const OTHER_MERCHANT: &str = "00000000-1111-4222-8333-444455556666";
pub const SECRET: &str = "client-secret-for-tests";

pub fn source() -> IkasWebhooks {
    IkasWebhooks::new(Secret::from(SECRET), MERCHANT)
}

pub fn json_fixture(name: &str) -> Value {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// A signed envelope of `scope` carrying `data` (compact JSON) for `merchant`.
pub fn envelope(scope: &str, merchant: &str, data: &Value) -> Vec<u8> {
    let text = serde_json::to_string(data).unwrap();
    source().envelope_for_test("wh-1", scope, merchant, &text)
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::new(Duration::from_millis(5), Duration::from_millis(20), 3)
}

pub fn client(uri: &str) -> IkasClient {
    IkasClient::new(
        IkasConfig::new(MERCHANT, IkasAuth::Token(Secret::from("app-token")))
            .graphql_url(format!("{uri}/api/v1/admin/graphql").parse().unwrap())
            .retry_policy(fast_retry())
            .timeout(Duration::from_secs(2))
            .page_size(2),
    )
    .unwrap()
}

pub const GRAPHQL_PATH: &str = "/api/v1/admin/graphql";

/// The operation a GraphQL request names (`listOrder`, `addOrderTimelineEntry`...).
pub fn operation(body: &Value) -> String {
    let q = body["query"].as_str().unwrap_or_default();
    ["listOrder", "listCustomer", "addOrderTimelineEntry"]
        .into_iter()
        .find(|op| q.contains(&format!("{op}(")))
        .unwrap_or("other")
        .to_owned()
}
