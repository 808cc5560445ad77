//! The sdk's platform traits over the Admin GraphQL API.
//!
//! One file past 800 lines on purpose: each GraphQL document, the response shape it is read
//! into and the trait method sending it sit together, so a field added to a query is added
//! to its shape in the same place.

use std::collections::{HashMap, HashSet, VecDeque};

use aftercare::Error;
use aftercare::model::{
    Address, ChannelKind, Customer, CustomerId, LineItem, Order, OrderId, Shipment, ShipmentEvent,
    ShipmentStatus,
};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use serde::Deserialize;
use serde_json::json;

use crate::client::ShopifyClient;
use crate::convert::{
    consent, gid, null_default, numeric_id, opt_time, parse_money, shipment_status,
};
use crate::error::ShopifyError;

// ------------------------------------------------------------------ GraphQL documents

/// Order fields read by `order` and `updated_since`
/// (<https://shopify.dev/docs/api/admin-graphql/latest/objects/Order>; a line's picture is
/// `LineItem.image { url }`, <https://shopify.dev/docs/api/admin-graphql/latest/objects/LineItem>
/// and `Image`: the order webhook's REST body has none).
const ORDER_FIELDS: &str = r#"
fragment OrderFields on Order {
  id name email phone customerLocale createdAt updatedAt cancelledAt tags
  customer { id }
  totalPriceSet { shopMoney { amount currencyCode } }
  shippingAddress { name address1 address2 city provinceCode zip countryCodeV2 phone }
  lineItems(first: 100) {
    nodes { id title quantity sku product { id productType } variant { id }
      originalUnitPriceSet { shopMoney { amount currencyCode } } image { url } }
  }
}"#;

const ORDER_QUERY: &str = r#"
query AftercareOrder($id: ID!) { order(id: $id) { ...OrderFields } }"#;

/// `orders(first:, after:, query: "updated_at:>=…", sortKey: UPDATED_AT)`
/// (<https://shopify.dev/docs/api/admin-graphql/latest/queries/orders>).
const ORDERS_QUERY: &str = r#"
query AftercareOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ...OrderFields }
    pageInfo { hasNextPage endCursor }
  }
}"#;

/// Fulfillments with `trackingInfo { company number url }` (field names confirmed on the
/// `FulfillmentTrackingInfo` reference page) and their events sorted by `HAPPENED_AT`
/// (`FulfillmentEventSortKeys`)
/// (<https://shopify.dev/docs/api/admin-graphql/latest/objects/Fulfillment>,
/// `FulfillmentTrackingInfo`, `FulfillmentEvent`). One fragment for `shipments` and
/// `shipments_many`, so both read the same fields into the same [`Shipment`].
const SHIPMENT_FIELDS: &str = r#"
fragment ShipmentFields on Order {
  id
  fulfillments(first: 50) {
    id status displayStatus createdAt updatedAt estimatedDeliveryAt
    trackingInfo(first: 20) { company number url }
    events(first: 100, sortKey: HAPPENED_AT) {
      nodes { status happenedAt message city province country estimatedDeliveryAt }
    }
    fulfillmentLineItems(first: 100) { nodes { lineItem { id } } }
  }
}"#;

const SHIPMENTS_QUERY: &str = r#"
query AftercareShipments($id: ID!) { order(id: $id) { ...ShipmentFields } }"#;

/// Several orders' fulfillments by global id: `nodes(ids: [ID!]!)`, `null` for an id the
/// shop does not know, in the order of the ids
/// (<https://shopify.dev/docs/api/admin-graphql/latest/queries/nodes>).
const SHIPMENTS_MANY_QUERY: &str = r#"
query AftercareShipmentsMany($ids: [ID!]!) { nodes(ids: $ids) { ...ShipmentFields } }"#;

/// At most this many ids per `nodes` request: "Input arguments that accept an array have a
/// maximum size of 250" (<https://shopify.dev/docs/api/usage/limits>; the 2020-01 changelog
/// "GraphQL input objects limited to 250 items" shows `nodes(ids:)` as its example).
pub const NODES_MAX_IDS: usize = 250;

/// A single query may not request more than 1,000 cost points; Shopify refuses it before
/// running it (<https://shopify.dev/docs/api/usage/rate-limits>, single query limit).
pub const MAX_QUERY_COST: f64 = 1000.0;

/// The requested cost of one order's `ShipmentFields`, by the cost table of
/// <https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits> (scalars and enums
/// 0, an object 1, a connection 2 + `first` × the cost of one node; the lists
/// `fulfillments` and `trackingInfo` counted as one object each): the `Order` 1 + one
/// `Fulfillment` 1 + `trackingInfo` 1 + `events(first: 100)` 2 + 100 × 1 +
/// `fulfillmentLineItems(first: 100)` 2 + 100 × (node 1 + `lineItem` 1) = 307. Only a guess
/// until Shopify answers: the requested cost does not depend on the data, so the first
/// `requestedQueryCost` of `shipments` or `shipments_many` replaces it.
pub const SHIPMENTS_COST_PER_ORDER: f64 = 307.0;

/// Customer contact, locale and marketing consent
/// (<https://shopify.dev/docs/api/admin-graphql/latest/objects/Customer>). Uses
/// `defaultEmailAddress` / `defaultPhoneNumber` (API 2025-04 and later; `email`, `phone`,
/// `emailMarketingConsent` and `smsMarketingConsent` are deprecated since), so it needs an
/// API version of 2025-04 or newer. The response mapping also reads the deprecated fields
/// when a proxy or an older schema returns them.
const CUSTOMER_QUERY: &str = r#"
query AftercareCustomer($id: ID!) {
  customer(id: $id) {
    id firstName lastName locale updatedAt
    defaultEmailAddress { emailAddress marketingState marketingUpdatedAt }
    defaultPhoneNumber { phoneNumber marketingState marketingUpdatedAt }
  }
}"#;

// The write-back mutations, checked against Shopify's reference (the facts file had their
// names as unverified): `tagsAdd(id:, tags:)` returning `TagsAddPayload { node userErrors }`
// (https://shopify.dev/docs/api/admin-graphql/latest/mutations/tagsAdd), `orderUpdate(input:
// OrderInput)` (https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderUpdate) and
// `metafieldsSet(metafields: [MetafieldsSetInput!]!)` with `ownerId`, `namespace`, `key`,
// `type`, `value` (https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet).
const TAGS_ADD: &str = r#"
mutation AftercareTagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { userErrors { field message } }
}"#;

const ORDER_NOTE_QUERY: &str = r#"
query AftercareOrderNote($id: ID!) { order(id: $id) { id note } }"#;

const ORDER_UPDATE: &str = r#"
mutation AftercareOrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { field message } }
}"#;

const METAFIELDS_SET: &str = r#"
mutation AftercareMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { id } userErrors { field message code } }
}"#;

// ------------------------------------------------------------------ response shapes

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoneyV2 {
    amount: String,
    currency_code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoneyBag {
    shop_money: MoneyV2,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GAddress {
    name: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    province_code: Option<String>,
    zip: Option<String>,
    country_code_v2: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GProduct {
    id: String,
    #[serde(default)]
    product_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GLineItem {
    id: String,
    #[serde(default, deserialize_with = "null_default")]
    title: String,
    #[serde(default)]
    quantity: u32,
    sku: Option<String>,
    product: Option<GProduct>,
    variant: Option<IdOnly>,
    original_unit_price_set: Option<MoneyBag>,
    #[serde(default)]
    image: Option<GImage>,
}

#[derive(Deserialize)]
struct GImage {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Nodes<T> {
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    nodes: Vec<T>,
}

impl<T> Default for Nodes<T> {
    fn default() -> Self {
        Self { nodes: Vec::new() }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GOrder {
    id: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    customer_locale: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_time")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_time")]
    cancelled_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "null_default")]
    tags: Vec<String>,
    customer: Option<IdOnly>,
    total_price_set: Option<MoneyBag>,
    shipping_address: Option<GAddress>,
    #[serde(default, deserialize_with = "null_default")]
    line_items: Nodes<GLineItem>,
}

fn some(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl GOrder {
    fn into_order(self, shop: &str) -> Order {
        let id = numeric_id(&self.id).to_owned();
        let mut o = Order::new(id.clone(), self.name.unwrap_or(id));
        o.shop = Some(shop.into());
        o.customer_id = self.customer.map(|c| numeric_id(&c.id).into());
        o.email = some(self.email);
        o.phone = some(self.phone);
        o.locale = some(self.customer_locale);
        o.total = self
            .total_price_set
            .and_then(|m| parse_money(&m.shop_money.amount, &m.shop_money.currency_code));
        o.cancelled = self.cancelled_at.is_some();
        o.tags = self.tags;
        o.created_at = self.created_at;
        o.updated_at = self.updated_at;
        o.shipping_address = self.shipping_address.map(|a| {
            let mut m = Address::default();
            m.name = some(a.name);
            m.lines = [a.address1, a.address2]
                .into_iter()
                .filter_map(some)
                .collect();
            m.city = some(a.city);
            m.province_code = some(a.province_code);
            m.postal_code = some(a.zip);
            m.country_code = some(a.country_code_v2);
            m.phone = some(a.phone);
            m
        });
        o.line_items = self
            .line_items
            .nodes
            .into_iter()
            .map(|l| {
                let mut li = LineItem::new(l.title, l.quantity);
                li.id = Some(numeric_id(&l.id).to_owned());
                li.sku = some(l.sku);
                if let Some(p) = l.product {
                    li.product_id = Some(numeric_id(&p.id).into());
                    li.category = some(p.product_type);
                }
                li.variant_id = l.variant.map(|v| numeric_id(&v.id).into());
                li.unit_price = l
                    .original_unit_price_set
                    .and_then(|m| parse_money(&m.shop_money.amount, &m.shop_money.currency_code));
                li.image = aftercare::model::ImageUrl::from_payload(
                    l.image.as_ref().and_then(|i| i.url.as_deref()),
                );
                li
            })
            .collect();
        o
    }
}

#[derive(Deserialize)]
struct OrderData {
    order: Option<GOrder>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrdersConn {
    #[serde(default, deserialize_with = "null_default")]
    nodes: Vec<GOrder>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
struct OrdersData {
    orders: OrdersConn,
}

#[derive(Deserialize)]
struct GTracking {
    company: Option<String>,
    number: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GEvent {
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    happened_at: Option<DateTime<Utc>>,
    message: Option<String>,
    city: Option<String>,
    province: Option<String>,
    country: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    estimated_delivery_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GFulfillmentLine {
    line_item: Option<IdOnly>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GFulfillment {
    id: String,
    status: Option<String>,
    display_status: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_time")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_time")]
    estimated_delivery_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "null_default")]
    tracking_info: Vec<GTracking>,
    #[serde(default, deserialize_with = "null_default")]
    events: Nodes<GEvent>,
    #[serde(default, deserialize_with = "null_default")]
    fulfillment_line_items: Nodes<GFulfillmentLine>,
}

impl GFulfillment {
    fn into_shipment(self, shop: &str, order: &OrderId) -> Shipment {
        let mut events: Vec<ShipmentEvent> = self
            .events
            .nodes
            .iter()
            .filter_map(|e| {
                let at = e.happened_at?;
                let mut ev = ShipmentEvent::new(
                    e.status
                        .as_deref()
                        .map(shipment_status)
                        .unwrap_or(ShipmentStatus::Unknown(String::new())),
                    at,
                );
                ev.message = some(e.message.clone());
                let loc: Vec<String> = [&e.city, &e.province, &e.country]
                    .into_iter()
                    .filter_map(|p| some(p.clone()))
                    .collect();
                ev.location = (!loc.is_empty()).then(|| loc.join(", "));
                Some(ev)
            })
            .collect();
        events.sort_by_key(|e| e.happened_at);
        // A cancelled fulfillment is cancelled whatever the carrier said; otherwise the
        // latest carrier event, else the display status (`FULFILLED`, `IN_TRANSIT`...).
        let status = match self.status.as_deref() {
            Some("CANCELLED") => ShipmentStatus::Cancelled,
            _ => events
                .last()
                .map(|e| e.status.clone())
                .or_else(|| self.display_status.as_deref().map(shipment_status))
                .or_else(|| self.status.as_deref().map(shipment_status))
                .unwrap_or(ShipmentStatus::Confirmed),
        };
        let mut s = Shipment::new(numeric_id(&self.id), order.clone(), status);
        s.shop = Some(shop.into());
        s.carrier = self
            .tracking_info
            .iter()
            .find_map(|t| some(t.company.clone()));
        for t in &self.tracking_info {
            if let Some(n) = some(t.number.clone())
                && !s.tracking_numbers.contains(&n)
            {
                s.tracking_numbers.push(n);
            }
            if let Some(u) = some(t.url.clone())
                && !s.tracking_urls.contains(&u)
            {
                s.tracking_urls.push(u);
            }
        }
        s.estimated_delivery = self.estimated_delivery_at.or_else(|| {
            self.events
                .nodes
                .iter()
                .rev()
                .find_map(|e| e.estimated_delivery_at)
        });
        s.events = events;
        s.line_item_ids = self
            .fulfillment_line_items
            .nodes
            .into_iter()
            .filter_map(|l| l.line_item.map(|li| numeric_id(&li.id).to_owned()))
            .collect();
        s.created_at = self.created_at;
        s.updated_at = self.updated_at;
        s
    }
}

#[derive(Deserialize)]
struct ShipmentsOrder {
    /// Absent from a `nodes` answer for an id that is not an order (`... on Order` selects
    /// nothing on other types).
    #[serde(default)]
    id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    fulfillments: Vec<GFulfillment>,
}

impl ShipmentsOrder {
    fn into_shipments(self, shop: &str, order: &OrderId) -> Vec<Shipment> {
        let order_id: OrderId = numeric_id(order.as_str()).into();
        self.fulfillments
            .into_iter()
            .map(|f| f.into_shipment(shop, &order_id))
            .collect()
    }
}

#[derive(Deserialize)]
struct NodesData {
    #[serde(default, deserialize_with = "null_default")]
    nodes: Vec<Option<ShipmentsOrder>>,
}

#[derive(Deserialize)]
struct ShipmentsData {
    order: Option<ShipmentsOrder>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GConsent {
    marketing_state: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    consent_updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GEmail {
    email_address: Option<String>,
    marketing_state: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    marketing_updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GPhone {
    phone_number: Option<String>,
    marketing_state: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    marketing_updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GCustomer {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    locale: Option<String>,
    #[serde(default, deserialize_with = "opt_time")]
    updated_at: Option<DateTime<Utc>>,
    default_email_address: Option<GEmail>,
    default_phone_number: Option<GPhone>,
    // Deprecated since 2025-04.
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email_marketing_consent: Option<GConsent>,
    #[serde(default)]
    sms_marketing_consent: Option<GConsent>,
}

#[derive(Deserialize)]
struct CustomerData {
    customer: Option<GCustomer>,
}

/// A GraphQL `UserError`.
#[derive(Deserialize)]
pub(crate) struct UserError {
    #[serde(default, deserialize_with = "null_default")]
    field: Vec<String>,
    message: String,
}

pub(crate) fn check_user_errors(operation: String, errs: &[UserError]) -> Result<(), ShopifyError> {
    if errs.is_empty() {
        return Ok(());
    }
    Err(ShopifyError::UserErrors {
        operation,
        messages: errs
            .iter()
            .map(|e| {
                if e.field.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.field.join("."), e.message)
                }
            })
            .collect(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithUserErrors {
    #[serde(default, deserialize_with = "null_default")]
    user_errors: Vec<UserError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagsAddData {
    tags_add: Option<WithUserErrors>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderUpdateData {
    order_update: Option<WithUserErrors>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetafieldsSetData {
    metafields_set: Option<WithUserErrors>,
}

#[derive(Deserialize)]
struct NoteOrder {
    note: Option<String>,
}

#[derive(Deserialize)]
struct NoteData {
    order: Option<NoteOrder>,
}

/// Whether `note` already holds `line` as whole lines (a multi-line `line` as consecutive
/// lines), ignoring trailing spaces and `\r`. An empty `line` is always held.
fn note_has_line(note: &str, line: &str) -> bool {
    let want: Vec<&str> = line.trim().lines().map(str::trim_end).collect();
    if want.is_empty() {
        return true;
    }
    let have: Vec<&str> = note.lines().map(str::trim).collect();
    let want: Vec<&str> = want.iter().map(|l| l.trim()).collect();
    have.windows(want.len()).any(|w| w == want.as_slice())
}

fn mutation_missing(op: &str) -> ShopifyError {
    ShopifyError::decode(
        format!("GraphQL `{op}` data"),
        "the mutation's payload is missing",
    )
}

// ------------------------------------------------------------------ the traits

impl ShopifyClient {
    async fn fetch_order(&self, id: &OrderId) -> Result<Option<Order>, ShopifyError> {
        let q = format!("{ORDER_QUERY}\n{ORDER_FIELDS}");
        let data: OrderData = self
            .graphql("order", &q, json!({ "id": gid("Order", id.as_str()) }))
            .await?;
        Ok(data.order.map(|o| o.into_order(self.config().shop())))
    }

    async fn orders_page(
        &self,
        search: &str,
        after: Option<&str>,
    ) -> Result<(Vec<Order>, Option<String>), ShopifyError> {
        let q = format!("{ORDERS_QUERY}\n{ORDER_FIELDS}");
        let data: OrdersData = self
            .graphql(
                "orders",
                &q,
                json!({ "first": self.page_size(), "after": after, "query": search }),
            )
            .await?;
        let shop = self.config().shop().to_owned();
        let orders = data
            .orders
            .nodes
            .into_iter()
            .map(|o| o.into_order(&shop))
            .collect();
        let next = if data.orders.page_info.has_next_page {
            data.orders.page_info.end_cursor
        } else {
            None
        };
        Ok((orders, next))
    }

    /// How many orders one `shipments_many` request asks for: as many as fit in
    /// [`MAX_QUERY_COST`] at the requested cost per order (Shopify's last figure for this
    /// selection, else [`SHIPMENTS_COST_PER_ORDER`]), at least 1 and at most
    /// [`NODES_MAX_IDS`].
    pub fn shipments_batch_size(&self) -> usize {
        let per_order = self.shipments_cost_per_order();
        if per_order <= 0.0 || !per_order.is_finite() {
            return NODES_MAX_IDS;
        }
        ((MAX_QUERY_COST / per_order).floor() as usize).clamp(1, NODES_MAX_IDS)
    }

    fn shipments_cost_per_order(&self) -> f64 {
        self.learned_cost("shipmentsMany")
            .or_else(|| self.learned_cost("shipments"))
            .unwrap_or(SHIPMENTS_COST_PER_ORDER)
    }

    async fn fetch_shipments_many(
        &self,
        orders: &[OrderId],
    ) -> Result<HashMap<OrderId, Vec<Shipment>>, ShopifyError> {
        let mut seen = HashSet::with_capacity(orders.len());
        let unique: Vec<&OrderId> = orders.iter().filter(|o| seen.insert(*o)).collect();
        let q = format!("{SHIPMENTS_MANY_QUERY}\n{SHIPMENT_FIELDS}");
        let shop = self.config().shop();
        let mut found = HashMap::with_capacity(unique.len());
        let mut rest = unique.as_slice();
        // Lowered when Shopify refuses a whole request (see below).
        let mut cap = usize::MAX;
        while !rest.is_empty() {
            // Sized again for each request: the first answer may have taught the real cost.
            let size = self.shipments_batch_size().min(cap).min(rest.len());
            let chunk = &rest[..size];
            let ids: Vec<String> = chunk.iter().map(|o| gid("Order", o.as_str())).collect();
            let answer = self
                .graphql_units::<NodesData>(
                    "shipmentsMany",
                    &q,
                    json!({ "ids": ids }),
                    chunk.len(),
                    self.shipments_cost_per_order(),
                )
                .await;
            let data = match answer {
                Ok(data) => data,
                // A request refused as a whole (GraphQL `errors` in a 2xx answer), as Shopify
                // refuses a query over the single-query cost limit: the cost per order is an
                // estimate until Shopify answers, so the same orders are asked again in
                // halves; an error that is not about size still ends the batch, after at
                // most log2(size) more requests.
                Err(ShopifyError::Api {
                    status: Some(status),
                    retryable: false,
                    message,
                    ..
                }) if status < 400 && size > 1 => {
                    tracing::debug!(size, %message, "Shopify refused a shipments batch; asking again in halves");
                    cap = size / 2;
                    continue;
                }
                Err(e) => return Err(e),
            };
            rest = &rest[size..];
            if data.nodes.len() != chunk.len() {
                return Err(ShopifyError::decode(
                    "GraphQL `shipmentsMany` data",
                    format!(
                        "{} nodes answered for {} ids",
                        data.nodes.len(),
                        chunk.len()
                    ),
                ));
            }
            // `nodes` answers in the order of the ids.
            for (order, node) in chunk.iter().zip(data.nodes) {
                let Some(node) = node else { continue };
                match node.id.as_deref().map(numeric_id) {
                    Some(id) if id == numeric_id(order.as_str()) => {}
                    Some(id) => {
                        return Err(ShopifyError::decode(
                            "GraphQL `shipmentsMany` data",
                            format!("node {id} answered in the place of order {order}"),
                        ));
                    }
                    None => continue,
                }
                found.insert((*order).clone(), node.into_shipments(shop, order));
            }
        }
        Ok(found)
    }

    /// The search query used by `updated_since`: `updated_at:>='2024-05-01T00:00:00Z'`
    /// (Shopify search syntax, <https://shopify.dev/docs/api/usage/search-syntax>).
    pub fn updated_since_query(since: DateTime<Utc>) -> String {
        format!(
            "updated_at:>='{}'",
            since.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }

    /// Adds tags to any taggable resource (`Order`, `Customer`) by kind and numeric id.
    pub async fn add_tags(
        &self,
        kind: &str,
        id: &str,
        tags: &[String],
    ) -> Result<(), ShopifyError> {
        if tags.is_empty() {
            return Ok(());
        }
        let data: TagsAddData = self
            .graphql(
                "tagsAdd",
                TAGS_ADD,
                json!({ "id": gid(kind, id), "tags": tags }),
            )
            .await?;
        let r = data.tags_add.ok_or_else(|| mutation_missing("tagsAdd"))?;
        check_user_errors(format!("add tags to {kind} {id}"), &r.user_errors)
    }
}

#[async_trait]
impl OrderSource for ShopifyClient {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        Ok(self.fetch_order(id).await?)
    }

    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        struct St {
            cursor: Option<String>,
            buf: VecDeque<Order>,
            done: bool,
            search: String,
        }
        let st = St {
            cursor: None,
            buf: VecDeque::new(),
            done: false,
            search: Self::updated_since_query(since),
        };
        stream::unfold(st, move |mut st| async move {
            loop {
                if let Some(o) = st.buf.pop_front() {
                    return Some((Ok(o), st));
                }
                if st.done {
                    return None;
                }
                match self.orders_page(&st.search, st.cursor.as_deref()).await {
                    Ok((orders, next)) => {
                        st.buf.extend(orders);
                        st.done = next.is_none();
                        st.cursor = next;
                    }
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e.into()), st));
                    }
                }
            }
        })
        .boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        let q = format!("{SHIPMENTS_QUERY}\n{SHIPMENT_FIELDS}");
        let data: ShipmentsData = self
            .graphql(
                "shipments",
                &q,
                json!({ "id": gid("Order", order.as_str()) }),
            )
            .await?;
        Ok(data
            .order
            .map(|o| o.into_shipments(self.config().shop(), order))
            .unwrap_or_default())
    }

    /// `nodes(ids:)` with the fields of `shipments`, [`ShopifyClient::shipments_batch_size`]
    /// ids per request, one request after the other (a request refused as a whole is asked
    /// again in halves); an id answered `null` (or not an order) is absent from the map.
    async fn shipments_many(
        &self,
        orders: &[OrderId],
    ) -> Result<HashMap<OrderId, Vec<Shipment>>, Error> {
        Ok(self.fetch_shipments_many(orders).await?)
    }
}

#[async_trait]
impl CustomerDirectory for ShopifyClient {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        let data: CustomerData = self
            .graphql(
                "customer",
                CUSTOMER_QUERY,
                json!({ "id": gid("Customer", id.as_str()) }),
            )
            .await?;
        Ok(data.customer.map(|c| {
            let mut m = Customer::new(numeric_id(&c.id));
            m.first_name = some(c.first_name);
            m.last_name = some(c.last_name);
            m.locale = some(c.locale);
            m.updated_at = c.updated_at;
            match c.default_email_address {
                Some(e) => {
                    m.email = some(e.email_address);
                    m.consents.push(consent(
                        ChannelKind::Email,
                        e.marketing_state.as_deref(),
                        e.marketing_updated_at,
                    ));
                }
                None => {
                    m.email = some(c.email);
                    if let Some(e) = c.email_marketing_consent {
                        m.consents.push(consent(
                            ChannelKind::Email,
                            e.marketing_state.as_deref(),
                            e.consent_updated_at,
                        ));
                    }
                }
            }
            match c.default_phone_number {
                Some(p) => {
                    m.phone = some(p.phone_number);
                    m.consents.push(consent(
                        ChannelKind::Sms,
                        p.marketing_state.as_deref(),
                        p.marketing_updated_at,
                    ));
                }
                None => {
                    m.phone = some(c.phone);
                    if let Some(s) = c.sms_marketing_consent {
                        m.consents.push(consent(
                            ChannelKind::Sms,
                            s.marketing_state.as_deref(),
                            s.consent_updated_at,
                        ));
                    }
                }
            }
            m
        }))
    }
}

#[async_trait]
impl OrderAnnotator for ShopifyClient {
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        Ok(self
            .add_tags("Order", numeric_id(order.as_str()), tags)
            .await?)
    }

    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        Ok(self
            .add_tags("Customer", numeric_id(customer.as_str()), tags)
            .await?)
    }

    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        let id = gid("Order", order.as_str());
        let data: NoteData = self
            .graphql("orderNote", ORDER_NOTE_QUERY, json!({ "id": id }))
            .await?;
        let Some(current) = data.order else {
            return Err(Error::NotFound {
                what: "order",
                id: order.to_string(),
            });
        };
        // Idempotent: a retried flow (the inbox processes an entry at least once) must not
        // write the same line twice, so a line the note already holds is not appended.
        if note_has_line(current.note.as_deref().unwrap_or(""), line) {
            tracing::debug!(%order, "the order's note already holds the line; nothing written");
            return Ok(());
        }
        let note = match current.note.as_deref().map(str::trim_end) {
            Some(n) if !n.is_empty() => format!("{n}\n{line}"),
            _ => line.to_owned(),
        };
        let data: OrderUpdateData = self
            .graphql(
                "orderUpdate",
                ORDER_UPDATE,
                json!({ "input": { "id": id, "note": note } }),
            )
            .await?;
        let r = data
            .order_update
            .ok_or_else(|| mutation_missing("orderUpdate"))?;
        Ok(check_user_errors(
            format!("append a note to order {order}"),
            &r.user_errors,
        )?)
    }

    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let data: MetafieldsSetData = self
            .graphql(
                "metafieldsSet",
                METAFIELDS_SET,
                json!({ "metafields": [{
                    "ownerId": gid("Order", order.as_str()),
                    "namespace": namespace,
                    "key": key,
                    "value": value,
                    "type": "single_line_text_field",
                }] }),
            )
            .await?;
        let r = data
            .metafields_set
            .ok_or_else(|| mutation_missing("metafieldsSet"))?;
        Ok(check_user_errors(
            format!("set metafield {namespace}.{key} on order {order}"),
            &r.user_errors,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::note_has_line;

    #[test]
    fn a_note_holds_a_line_only_as_a_whole_line() {
        let note = "Please leave at the front desk.\r\nNPS 3: late delivery  \nthanks";
        assert!(note_has_line(note, "NPS 3: late delivery"));
        assert!(note_has_line(note, " NPS 3: late delivery\n"));
        assert!(note_has_line(note, "NPS 3: late delivery\nthanks"));
        // Part of a line, or lines out of order, is not the line.
        assert!(!note_has_line(note, "NPS 3"));
        assert!(!note_has_line(note, "thanks\nNPS 3: late delivery"));
        assert!(!note_has_line("", "NPS 3: late delivery"));
        assert!(note_has_line("anything", "  "));
    }
}
