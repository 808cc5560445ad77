//! Shippo's tracking webhooks: the URL token, de-duplication, decoding.

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShipmentEvent, TrackingUpdate};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    QUERY_PSEUDO_HEADER, Rejection, Secret, VerifiedWebhook, WebhookRequest, WebhookSource,
    body_hash_key,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use subtle::ConstantTimeEq as _;

use crate::SOURCE_NAME;
use crate::status::map;

/// Shippo's webhooks as a [`WebhookSource`], authenticated by the `token` query parameter
/// of the webhook URL registered with Shippo (`https://…/webhooks/shippo?token=<token>`).
#[derive(Clone, Debug)]
pub struct ShippoWebhooks {
    tokens: Vec<Secret>,
}

impl ShippoWebhooks {
    /// Requires `?token=<token>` on every webhook (generate a long random token).
    pub fn new(token: Secret) -> Self {
        Self {
            tokens: vec![token],
        }
    }

    /// Also accepts an older token (a rotation).
    pub fn also_token(mut self, token: Secret) -> Self {
        self.tokens.push(token);
        self
    }
}

fn token_of(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

impl WebhookSource for ShippoWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        let got = request
            .headers
            .get_str(QUERY_PSEUDO_HEADER)
            .and_then(token_of)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Rejection::MissingHeader {
                header: "token (query parameter of the webhook URL)".into(),
            })?;
        let ok = self
            .tokens
            .iter()
            .any(|t| !t.expose().is_empty() && bool::from(t.expose().ct_eq(got.as_bytes())));
        if !ok {
            return Err(Rejection::Mismatch);
        }
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        // "Tracking webhooks are not idempotent": the number and the status object name the
        // state across duplicates.
        let v: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
        let d = &v["data"];
        let key = match (
            d["tracking_number"].as_str(),
            d["tracking_status"]["object_id"].as_str(),
        ) {
            (Some(n), Some(id)) => format!("shippo:{n}:{id}"),
            _ => body_hash_key(request.body),
        };
        let mut out = VerifiedWebhook::new(key);
        out.topic = v["event"].as_str().map(str::to_owned);
        Ok(out)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode(&entry.body)
    }
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn place(l: &Value) -> Option<String> {
    let parts: Vec<&str> = ["city", "state", "country"]
        .iter()
        .filter_map(|k| l[*k].as_str())
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn event(s: &Value) -> Option<ShipmentEvent> {
    let at = time(&s["status_date"])?;
    let raw = text(&s["status"])?;
    let code = text(&s["substatus"]["code"]);
    let mut e = ShipmentEvent::new(map(&raw, code.as_deref()), at);
    e.message = text(&s["status_details"]).or_else(|| text(&s["substatus"]["text"]));
    e.location = place(&s["location"]);
    e.source = Some(SOURCE_NAME.into());
    e.raw_status = Some(raw);
    e.raw_sub_status = code;
    Some(e)
}

/// Decodes a stored webhook: `track_updated` into [`PlatformEvent::TrackingUpdated`],
/// anything else (transactions, batches) into [`PlatformEvent::Unrecognized`].
pub fn decode(body: &[u8]) -> Result<Vec<PlatformEvent>, Error> {
    let what = "shippo track_updated";
    let v: Value = serde_json::from_slice(body).map_err(|e| Error::decode(what, e))?;
    let ev = v["event"].as_str().unwrap_or("");
    if ev != "track_updated" {
        return Ok(vec![PlatformEvent::Unrecognized {
            topic: format!("shippo {ev}"),
        }]);
    }
    let d = &v["data"];
    let number =
        text(&d["tracking_number"]).ok_or_else(|| Error::decode(what, "no tracking_number"))?;
    let st = &d["tracking_status"];
    let raw =
        text(&st["status"]).ok_or_else(|| Error::decode(what, "no tracking_status.status"))?;
    let code = text(&st["substatus"]["code"]);
    let mut events: Vec<ShipmentEvent> = d["tracking_history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(event)
        .collect();
    events.sort_by_key(|e| e.happened_at);
    let happened_at = time(&st["status_date"])
        .or_else(|| events.last().map(|e| e.happened_at))
        .ok_or_else(|| Error::decode(what, "no status_date"))?;
    let mut u = TrackingUpdate::new(
        SOURCE_NAME,
        number,
        map(&raw, code.as_deref()),
        raw,
        happened_at,
    );
    u.raw_sub_status = code;
    u.carrier = text(&d["carrier"]);
    u.reference = text(&st["object_id"]);
    u.estimated_delivery = time(&d["eta"]);
    u.events = events;
    Ok(vec![PlatformEvent::TrackingUpdated { update: u }])
}
