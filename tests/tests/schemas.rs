//! The checked-in JSON Schemas match the types: regenerate with `cargo xtask schemas`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn checked_in_schemas_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    for (name, schema) in aftercare::schema::all() {
        let on_disk = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
            panic!("schemas/{name} is missing ({e}); run `cargo xtask schemas`")
        });
        assert_eq!(
            on_disk,
            aftercare::schema::render(&schema),
            "schemas/{name} is stale; run `cargo xtask schemas`"
        );
    }
}

#[test]
fn an_event_in_the_schema_round_trips() {
    let raw = r#"{"type":"shipment_updated","shipment":{"shop":null,"id":"5791","order_id":"820982911946154500","carrier":"UPS","tracking_numbers":["1Z999AA10123456784"],"tracking_urls":[],"status":"out_for_delivery","events":[],"estimated_delivery":null,"line_item_ids":[],"created_at":null,"updated_at":"2026-05-01T10:00:00Z"}}"#;
    let ev: aftercare::model::PlatformEvent = serde_json::from_str(raw).unwrap();
    assert_eq!(ev.kind(), "shipment_updated");
    let schema = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/platform-event.json"),
    )
    .unwrap();
    assert!(
        schema.contains("out_for_delivery"),
        "the status vocabulary is in the schema"
    );
}
