//! JSON Schemas of the public event and configuration types (feature `schemars`).
//!
//! `cargo xtask schemas` writes them to `schemas/`; a test fails when the checked-in files
//! are stale.

use serde_json::Value;

use crate::config::Config;
use crate::model::{
    Customer, InboundMessage, Order, OutboundMessage, PlatformEvent, Shipment, SurveyResponse,
};

/// Every schema, as `(file name, schema)`, in a stable order.
pub fn all() -> Vec<(&'static str, Value)> {
    fn s<T: schemars::JsonSchema>() -> Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null)
    }
    vec![
        ("config.json", s::<Config>()),
        ("customer.json", s::<Customer>()),
        ("inbound-message.json", s::<InboundMessage>()),
        ("order.json", s::<Order>()),
        ("outbound-message.json", s::<OutboundMessage>()),
        ("platform-event.json", s::<PlatformEvent>()),
        ("shipment.json", s::<Shipment>()),
        ("survey-response.json", s::<SurveyResponse>()),
    ]
}

/// A schema rendered as the checked-in file's text (pretty JSON, trailing newline).
pub fn render(schema: &Value) -> String {
    let mut s = serde_json::to_string_pretty(schema).unwrap_or_default();
    s.push('\n');
    s
}
