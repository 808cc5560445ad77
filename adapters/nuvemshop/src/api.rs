//! The sdk's platform traits on [`NuvemshopClient`]: orders (paged "updated since"),
//! shipments (the order's own tracking), customers, and write-back to the store owner's
//! note (`owner_note`, the one order field the API lets an app change: `PUT /orders/{id}`).

use aftercare::Error;
use aftercare::model::{Customer, CustomerId, Order, OrderId, Shipment};
use aftercare::platform::links::link;
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, BoxStream, StreamExt as _};
use serde::Deserialize;
use serde_json::json;

use crate::client::{NuvemshopClient, decode_json};
use crate::convert;
use crate::error::NuvemshopError;
use crate::payload::{ApiCustomer, ApiOrder};

/// The prefix of the lines the adapter writes into `owner_note` (tags and metafields have
/// no order API in Nuvemshop; they are kept as lines of the store owner's note).
pub const NOTE_PREFIX: &str = "[aftercare]";

fn valid_id(id: &str) -> Result<(), NuvemshopError> {
    if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(NuvemshopError::decode(
            "nuvemshop id",
            format!("`{id}` is not a Nuvemshop id"),
        ))
    }
}

#[derive(Deserialize)]
struct OwnerNote {
    #[serde(default)]
    owner_note: Option<String>,
}

#[derive(Deserialize)]
struct CustomerNote {
    #[serde(default)]
    note: Option<String>,
}

/// `note` with `lines` appended (those not already there, each compared as a whole line);
/// `None` when nothing is new.
fn with_lines(note: Option<&str>, lines: &[String]) -> Option<String> {
    let note = note.unwrap_or("");
    let have: Vec<&str> = note.lines().map(str::trim).collect();
    let mut out = note.trim_end().to_owned();
    let mut changed = false;
    for l in lines {
        let l = l.trim();
        if l.is_empty() || have.contains(&l) || out.lines().any(|x| x.trim() == l) {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(l);
        changed = true;
    }
    changed.then_some(out)
}

impl NuvemshopClient {
    /// An order as the API gives it; `None` on 404.
    pub async fn fetch_order(&self, id: &str) -> Result<Option<ApiOrder>, NuvemshopError> {
        valid_id(id)?;
        self.get(&format!("orders/{id}"), &[]).await
    }

    async fn owner_note(&self, id: &str) -> Result<Option<String>, NuvemshopError> {
        valid_id(id)?;
        let o: Option<OwnerNote> = self
            .get(
                &format!("orders/{id}"),
                &[("fields", "id,owner_note".to_owned())],
            )
            .await?;
        let o = o.ok_or_else(|| NuvemshopError::Api {
            operation: format!("GET /orders/{id}"),
            status: Some(404),
            message: "no such order".into(),
            retryable: false,
        })?;
        Ok(o.owner_note)
    }

    async fn write_owner_note(&self, id: &str, lines: &[String]) -> Result<(), NuvemshopError> {
        let note = self.owner_note(id).await?;
        if let Some(new) = with_lines(note.as_deref(), lines) {
            self.put(&format!("orders/{id}"), &json!({ "owner_note": new }))
                .await?;
        }
        Ok(())
    }

    async fn page(
        &self,
        since: DateTime<Utc>,
        next: &Option<String>,
        page: u32,
    ) -> Result<(Vec<ApiOrder>, Option<String>, bool), NuvemshopError> {
        let r = match next {
            Some(url) => self.get_url(url).await?,
            None => {
                self.call(
                    reqwest::Method::GET,
                    "orders",
                    &[
                        (
                            "updated_at_min",
                            since.to_rfc3339_opts(SecondsFormat::Secs, true),
                        ),
                        ("per_page", self.config().page_size_value().to_string()),
                        ("page", page.to_string()),
                    ],
                    None,
                )
                .await?
            }
        };
        // Past the last page the API answers 404 ("Last page is N").
        if r.status == 404 {
            return Ok((Vec::new(), None, true));
        }
        let orders: Vec<ApiOrder> = decode_json(&r.body, "GET /orders")?;
        let next = r.link.as_deref().and_then(|l| link(l, "next"));
        let last = match (&r.link, &next) {
            (Some(_), None) => true,
            _ => orders.len() < self.config().page_size_value() as usize,
        };
        Ok((orders, next, last))
    }
}

struct Pass {
    page: u32,
    next: Option<String>,
    buffer: std::vec::IntoIter<ApiOrder>,
    done: bool,
}

#[async_trait]
impl OrderSource for NuvemshopClient {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        match self.fetch_order(id.as_str()).await? {
            Some(o) => Ok(Some(convert::order(&o, self.store_id())?)),
            None => Ok(None),
        }
    }

    /// `GET /orders?updated_at_min=...&per_page=...&page=N`, following `Link: rel="next"`
    /// when the API sends it; a page past the last answers 404, which ends the pass. An
    /// error ends the stream with the error.
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        let start = Pass {
            page: 1,
            next: None,
            buffer: Vec::new().into_iter(),
            done: false,
        };
        stream::unfold(Some(start), move |state| async move {
            let mut st = state?;
            loop {
                if let Some(o) = st.buffer.next() {
                    let item = convert::order(&o, self.store_id()).map_err(Error::from);
                    let failed = item.is_err();
                    return Some((item, if failed { None } else { Some(st) }));
                }
                if st.done {
                    return None;
                }
                match self.page(since, &st.next, st.page).await {
                    Ok((orders, next, last)) => {
                        st.page += 1;
                        st.next = next;
                        st.done = last || orders.is_empty();
                        st.buffer = orders.into_iter();
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
            .and_then(|o| convert::shipment_of(&o, self.store_id()))
            .into_iter()
            .collect())
    }
}

#[async_trait]
impl CustomerDirectory for NuvemshopClient {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        valid_id(id.as_str())?;
        let c: Option<ApiCustomer> = self.get(&format!("customers/{id}"), &[]).await?;
        Ok(c.as_ref().map(convert::customer))
    }
}

/// Write-back, idempotent: each call reads the note first and writes only lines that are
/// not there yet (one `PUT` at most).
///
/// | call | writes |
/// |---|---|
/// | `append_order_note` | the line, into the order's `owner_note` |
/// | `add_order_tags` | `[aftercare] tag: {tag}` per new tag, into `owner_note` |
/// | `set_order_metafield` | `[aftercare] {namespace}.{key} = {value}`, replacing that key's line |
/// | `add_customer_tags` | `[aftercare] tag: {tag}`, into the customer's `note` |
#[async_trait]
impl OrderAnnotator for NuvemshopClient {
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        let lines: Vec<String> = tags
            .iter()
            .map(|t| format!("{NOTE_PREFIX} tag: {}", t.trim()))
            .collect();
        Ok(self.write_owner_note(order.as_str(), &lines).await?)
    }

    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        let id = customer.as_str();
        valid_id(id)?;
        let c: Option<CustomerNote> = self
            .get(
                &format!("customers/{id}"),
                &[("fields", "id,note".to_owned())],
            )
            .await?;
        let Some(c) = c else {
            return Err(NuvemshopError::Api {
                operation: format!("GET /customers/{id}"),
                status: Some(404),
                message: "no such customer".into(),
                retryable: false,
            }
            .into());
        };
        let lines: Vec<String> = tags
            .iter()
            .map(|t| format!("{NOTE_PREFIX} tag: {}", t.trim()))
            .collect();
        if let Some(new) = with_lines(c.note.as_deref(), &lines) {
            self.put(&format!("customers/{id}"), &json!({ "note": new }))
                .await?;
        }
        Ok(())
    }

    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        Ok(self
            .write_owner_note(order.as_str(), &[line.to_owned()])
            .await?)
    }

    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let id = order.as_str();
        let note = self.owner_note(id).await?.unwrap_or_default();
        let head = format!("{NOTE_PREFIX} {namespace}.{key} = ");
        let line = format!("{head}{value}");
        if note.lines().any(|l| l.trim() == line) {
            return Ok(());
        }
        let mut kept: Vec<&str> = note
            .lines()
            .filter(|l| !l.trim().starts_with(&head))
            .collect();
        kept.push(&line);
        self.put(
            &format!("orders/{id}"),
            &json!({ "owner_note": kept.join("\n") }),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_once() {
        assert_eq!(with_lines(None, &["a".into()]), Some("a".into()));
        assert_eq!(with_lines(Some("x\na"), &["a".into()]), None);
        assert_eq!(
            with_lines(Some("x"), &["a".into(), "a".into()]),
            Some("x\na".into())
        );
        // A line that merely contains the text is not the line.
        assert_eq!(with_lines(Some("ab"), &["a".into()]), Some("ab\na".into()));
    }
}
