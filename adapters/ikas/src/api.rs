//! The sdk's platform traits on [`IkasClient`]: `listOrder` (by id; by `updatedAt`, page
//! after page), packages as shipments, `listCustomer`, and write-back as order timeline
//! entries.
//!
//! Field and argument names follow ikas.dev's Admin API type definitions (`Order`,
//! `OrderPackage`, `TrackingInfo`, `StringFilterInput {eq}`, `DateFilterInput {gte}`,
//! `PaginationInput {page, limit}`) and the `listOrder` answer `{count, data, hasNext,
//! limit, page}`.

use std::sync::OnceLock;

use aftercare::Error;
use aftercare::model::{Customer, CustomerId, Order, OrderId, Shipment};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt as _};
use serde::Deserialize;
use serde_json::json;

use crate::client::IkasClient;
use crate::convert;
use crate::error::IkasError;
use crate::payload::{IkasCustomer, IkasOrder};

/// The order fields the adapter reads.
pub const ORDER_FIELDS: &str = "id orderNumber status currencyCode totalFinalPrice orderedAt createdAt updatedAt orderPaymentStatus customerId \
customer { id firstName lastName email phone } \
shippingAddress { firstName lastName phone addressLine1 addressLine2 postalCode city { name } district { name } country { iso2 } } \
orderLineItems { id quantity price variant { id productId name sku } } \
orderPackages { id orderPackageFulfillStatus orderLineItemIds trackingInfo { trackingNumber trackingLink cargoCompany cargoCompanyId } }";

fn order_by_id_query() -> &'static str {
    static Q: OnceLock<String> = OnceLock::new();
    Q.get_or_init(|| format!("query listOrder($id: StringFilterInput) {{ listOrder(id: $id) {{ data {{ {ORDER_FIELDS} }} }} }}"))
}

fn orders_since_query() -> &'static str {
    static Q: OnceLock<String> = OnceLock::new();
    Q.get_or_init(|| {
        format!("query listOrder($updatedAt: DateFilterInput, $pagination: PaginationInput, $sort: String) {{ listOrder(updatedAt: $updatedAt, pagination: $pagination, sort: $sort) {{ count hasNext page limit data {{ {ORDER_FIELDS} }} }} }}")
    })
}

const CUSTOMER_QUERY: &str = "query listCustomer($id: StringFilterInput) { listCustomer(id: $id) { data { id firstName lastName email phone preferredLanguage updatedAt } } }";

/// `PublicTimelineInput` (codegen of `@ikas/admin-api-client` as used by public apps).
const TIMELINE_MUTATION: &str = "mutation addOrderTimelineEntry($input: PublicTimelineInput!) { addOrderTimelineEntry(input: $input) }";

/// The prefix of the timeline entries the adapter writes for tags and metafields.
pub const NOTE_PREFIX: &str = "[aftercare]";

#[derive(Deserialize)]
struct ListOrder {
    #[serde(rename = "listOrder")]
    list: OrderPage,
}

#[derive(Deserialize)]
struct OrderPage {
    data: Vec<IkasOrder>,
    #[serde(default, rename = "hasNext")]
    has_next: bool,
}

#[derive(Deserialize)]
struct ListCustomer {
    #[serde(rename = "listCustomer")]
    list: CustomerPage,
}

#[derive(Deserialize)]
struct CustomerPage {
    data: Vec<IkasCustomer>,
}

impl IkasClient {
    /// An order as the API gives it; `None` when there is none.
    pub async fn fetch_order(&self, id: &str) -> Result<Option<IkasOrder>, IkasError> {
        let r: ListOrder = self
            .graphql(
                "listOrder",
                order_by_id_query(),
                json!({ "id": { "eq": id } }),
                false,
            )
            .await?;
        Ok(r.list.data.into_iter().find(|o| o.id == id))
    }

    /// Writes one timeline entry unless this client wrote the same one already: `sourceId`
    /// is derived from the merchant, the order and the text, so the same line is the same
    /// entry.
    async fn timeline(&self, order: &str, message: &str) -> Result<(), IkasError> {
        let source_id = format!(
            "aftercare-{}",
            &aftercare::webhook::body_hash_key(
                format!("{}\n{order}\n{message}", self.merchant_id()).as_bytes()
            )[7..31]
        );
        let key = format!("{}:{source_id}", self.merchant_id());
        if self
            .written
            .lock()
            .map(|w| w.contains(&key))
            .unwrap_or(false)
        {
            return Ok(());
        }
        let _: serde_json::Value = self
            .graphql(
                "addOrderTimelineEntry",
                TIMELINE_MUTATION,
                json!({ "input": { "orderId": order, "message": message, "sourceId": source_id } }),
                true,
            )
            .await?;
        if let Ok(mut w) = self.written.lock() {
            w.insert(key);
        }
        Ok(())
    }
}

struct Pass {
    page: u32,
    buffer: std::vec::IntoIter<IkasOrder>,
    done: bool,
}

#[async_trait]
impl OrderSource for IkasClient {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        match self.fetch_order(id.as_str()).await? {
            Some(o) => Ok(Some(convert::order(
                &o,
                self.merchant_id(),
                self.config().store_locale(),
            )?)),
            None => Ok(None),
        }
    }

    /// `listOrder(updatedAt: {gte}, sort: "updatedAt", pagination: {page, limit})`, page
    /// after page while `hasNext`; an error ends the stream with the error.
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        let start = Pass {
            page: 1,
            buffer: Vec::new().into_iter(),
            done: false,
        };
        stream::unfold(Some(start), move |state| async move {
            let mut st = state?;
            loop {
                if let Some(o) = st.buffer.next() {
                    let item = convert::order(&o, self.merchant_id(), self.config().store_locale())
                        .map_err(Error::from);
                    let failed = item.is_err();
                    return Some((item, if failed { None } else { Some(st) }));
                }
                if st.done {
                    return None;
                }
                let vars = json!({
                    "updatedAt": { "gte": since.timestamp_millis() },
                    "pagination": { "page": st.page, "limit": self.config().page_size_value() },
                    "sort": "updatedAt",
                });
                match self
                    .graphql::<ListOrder>("listOrder", orders_since_query(), vars, false)
                    .await
                {
                    Ok(r) => {
                        st.page += 1;
                        st.done = !r.list.has_next || r.list.data.is_empty();
                        st.buffer = r.list.data.into_iter();
                    }
                    Err(e) => return Some((Err(e.into()), None)),
                }
            }
        })
        .boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        Ok(self
            .fetch_order(order.as_str())
            .await?
            .map(|o| convert::shipments(&o, self.merchant_id()))
            .unwrap_or_default())
    }
}

#[async_trait]
impl CustomerDirectory for IkasClient {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        let r: ListCustomer = self
            .graphql(
                "listCustomer",
                CUSTOMER_QUERY,
                json!({ "id": { "eq": id.as_str() } }),
                false,
            )
            .await?;
        Ok(r.list
            .data
            .into_iter()
            .find(|c| c.id == id.as_str())
            .map(|c| convert::customer(&c)))
    }
}

/// Write-back as order timeline entries (`addOrderTimelineEntry`), each written once per
/// client (and its clones) (a deterministic `sourceId`; the flows' ledger keeps a decision from being
/// repeated across restarts):
///
/// | call | entry |
/// |---|---|
/// | `append_order_note` | the line |
/// | `add_order_tags` | `[aftercare] tag: {tag}` per tag |
/// | `set_order_metafield` | `[aftercare] {namespace}.{key} = {value}` |
/// | `add_customer_tags` | none: ikas documents no mutation to tag a customer (logged) |
#[async_trait]
impl OrderAnnotator for IkasClient {
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        for t in tags {
            self.timeline(order.as_str(), &format!("{NOTE_PREFIX} tag: {}", t.trim()))
                .await?;
        }
        Ok(())
    }

    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        tracing::info!(customer = %customer, ?tags, "ikas documents no mutation to tag a customer; skipped");
        Ok(())
    }

    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        Ok(self.timeline(order.as_str(), line.trim()).await?)
    }

    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        Ok(self
            .timeline(
                order.as_str(),
                &format!("{NOTE_PREFIX} {namespace}.{key} = {value}"),
            )
            .await?)
    }
}
