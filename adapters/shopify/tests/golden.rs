//! Golden output of the webhook decoder: every fixture decoded under each topic that takes
//! it, compared with the JSON committed under `tests/golden/`. It guards the hand-tuned
//! decoder (`src/fast.rs`): a change in what any topic yields shows up as a diff here.
//!
//! After an intended change, rewrite the files with
//! `AFTERCARE_UPDATE_GOLDEN=1 cargo test -p aftercare-shopify golden` and review the diff.

use aftercare_shopify::decode_topic;

const CASES: &[(&str, &str)] = &[
    ("orders/create", "tests/fixtures/orders_create.json"),
    ("orders/paid", "tests/fixtures/orders_create.json"),
    ("orders/updated", "tests/fixtures/orders_create.json"),
    ("orders/cancelled", "tests/fixtures/orders_create.json"),
    ("orders/fulfilled", "tests/fixtures/orders_create.json"),
    (
        "orders/fulfilled",
        "benches/fixtures/shopify_order_fulfilled.json",
    ),
    (
        "orders/partially_fulfilled",
        "benches/fixtures/shopify_order_fulfilled.json",
    ),
    (
        "fulfillments/create",
        "tests/fixtures/fulfillments_create.json",
    ),
    (
        "fulfillments/update",
        "tests/fixtures/fulfillments_update_unknown_status.json",
    ),
    (
        "fulfillment_events/create",
        "tests/fixtures/fulfillment_events_create.json",
    ),
    ("customers/update", "tests/fixtures/customers_update.json"),
    (
        "customers/data_request",
        "tests/fixtures/customers_data_request.json",
    ),
    ("customers/redact", "tests/fixtures/customers_redact.json"),
    ("shop/redact", "tests/fixtures/shop_redact.json"),
    ("products/create", "tests/fixtures/orders_create.json"),
];

fn golden_name(topic: &str, fixture: &str) -> String {
    let stem = fixture
        .rsplit('/')
        .next()
        .unwrap_or(fixture)
        .trim_end_matches(".json");
    format!("{}--{stem}.json", topic.replace('/', "__"))
}

/// What the decoder yields for `body`: the events as JSON, or the error's text.
fn render(topic: &str, body: &[u8]) -> String {
    match decode_topic(topic, Some("demo.myshopify.com"), body) {
        Ok(events) => serde_json::to_string_pretty(&events).unwrap() + "\n",
        Err(e) => format!("error: {e}\n"),
    }
}

fn check(name: &str, got: &str) -> Result<(), String> {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("AFTERCARE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(format!("{}/tests/golden", env!("CARGO_MANIFEST_DIR"))).unwrap();
        std::fs::write(&path, got).unwrap();
        return Ok(());
    }
    let want = std::fs::read_to_string(&path).map_err(|e| {
        format!("{name}: no golden file ({e}); write it with AFTERCARE_UPDATE_GOLDEN=1")
    })?;
    if want == got {
        Ok(())
    } else {
        let line = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(got.lines().count()));
        Err(format!(
            "{name}: decoded output differs from the golden file at line {}:\n  golden: {}\n  now:    {}",
            line + 1,
            want.lines().nth(line).unwrap_or("<end>"),
            got.lines().nth(line).unwrap_or("<end>")
        ))
    }
}

#[test]
fn every_topic_decodes_its_fixtures_as_recorded() {
    let mut failures = Vec::new();
    for (topic, fixture) in CASES {
        let body = std::fs::read(format!("{}/{fixture}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        if let Err(e) = check(&golden_name(topic, fixture), &render(topic, &body)) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn malformed_bodies_fail_as_recorded() {
    let body = std::fs::read(format!(
        "{}/benches/fixtures/shopify_order_fulfilled.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "orders/fulfilled",
            "truncated",
            body[..body.len() / 2].to_vec(),
        ),
        ("orders/create", "array", b"[]".to_vec()),
        (
            "orders/create",
            "id-as-float",
            br##"{"id":1.5,"name":"#1001"}"##.to_vec(),
        ),
        ("fulfillments/update", "not-json", b"\xff\xfe".to_vec()),
        ("customers/redact", "empty", Vec::new()),
    ];
    let mut failures = Vec::new();
    for (topic, label, body) in cases {
        let name = format!("{}--{label}.txt", topic.replace('/', "__"));
        if let Err(e) = check(&name, &render(topic, &body)) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
