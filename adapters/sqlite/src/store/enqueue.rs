//! `Outbox::enqueue_many` as a few statements per chunk: the messages inserted by multi-row
//! `INSERT ... VALUES` statements with bound values (`values.rs`; duplicates skipped by the
//! key's unique index), the ids of keys already taken read in one query, and every ledger
//! row written by one more (its short rows as one JSON array, `json_each`). One message at
//! a time cost two statements and four hand-offs to sqlx's connection thread each (18.5 s
//! for 100,000 messages).

use std::collections::HashMap;

use aftercare::model::{CustomerId, OrderId, ShopId};
use aftercare::store::{Decision, Enqueue, NewOutboxMessage, address_hash};
use chrono::{DateTime, Utc};

use super::values;

/// Enqueues `msgs` in the caller's transaction, answering for each in order as
/// `Outbox::enqueue` does: the first of a key not yet queued is new, every other one a
/// duplicate of the row holding the key; each gets its ledger row, in order.
pub(super) async fn enqueue_chunk(
    conn: &mut sqlx::SqliteConnection,
    msgs: &[NewOutboxMessage],
    now: DateTime<Utc>,
) -> Result<Vec<Enqueue>, sqlx::Error> {
    if msgs.is_empty() {
        return Ok(Vec::new());
    }
    let mut json = Vec::with_capacity(msgs.len());
    for msg in msgs {
        json.push(
            serde_json::to_string(&msg.message).map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
        );
    }
    // Bound rows (`values.rs`), in the messages' order, so ids follow it.
    let mut made: Vec<(i64, String)> = Vec::with_capacity(msgs.len());
    let mut at = 0;
    for n in values::chunks(msgs.len()) {
        let mut sql = String::from(
            "INSERT INTO outbox (key, shop, order_id, customer_id, channel, recipient_hash, message, due_at, created_at) VALUES ",
        );
        values::placeholders(&mut sql, n, 9);
        sql.push_str(" ON CONFLICT (key) DO NOTHING RETURNING id, key");
        let mut q = sqlx::query_as(&sql);
        for (msg, json) in msgs[at..at + n].iter().zip(&json[at..at + n]) {
            let m = &msg.message;
            q = q
                .bind(msg.key.as_str())
                .bind(m.shop.as_ref().map(ShopId::as_str))
                .bind(m.order_id.as_ref().map(OrderId::as_str))
                .bind(m.customer_id.as_ref().map(CustomerId::as_str))
                .bind(m.channel.as_str())
                .bind(address_hash(&m.to))
                .bind(json.as_str())
                .bind(msg.due_at.timestamp_micros())
                .bind(now.timestamp_micros());
        }
        made.extend(q.fetch_all(&mut *conn).await?);
        at += n;
    }
    let mut made: HashMap<String, i64> = made.into_iter().map(|(id, k)| (k, id)).collect();
    // Keys that were taken before this chunk (or twice in it).
    let mut taken: HashMap<String, i64> = HashMap::new();
    let others: Vec<&str> = msgs
        .iter()
        .filter(|m| !made.contains_key(&m.key))
        .map(|m| m.key.as_str())
        .collect();
    if !others.is_empty() {
        let keys = serde_json::to_string(&others).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let found: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, key FROM outbox WHERE key IN (SELECT value FROM json_each(?))",
        )
        .bind(keys)
        .fetch_all(&mut *conn)
        .await?;
        taken.extend(found.into_iter().map(|(id, k)| (k, id)));
    }
    let mut out = Vec::with_capacity(msgs.len());
    let mut ledger = Vec::with_capacity(msgs.len());
    for msg in msgs {
        let (result, decision, reason) = if let Some(id) = made.remove(&msg.key) {
            // The first message of this key: later ones in the chunk are duplicates of it.
            taken.insert(msg.key.clone(), id);
            (Enqueue::New(id), Decision::Enqueued, msg.reason.clone())
        } else {
            let id = taken.get(&msg.key).copied().ok_or_else(|| {
                sqlx::Error::Protocol(format!(
                    "outbox key {:?} was neither inserted nor found",
                    msg.key
                ))
            })?;
            (
                Enqueue::Duplicate(id),
                Decision::Skipped,
                format!(
                    "already queued under the same key; not sent twice ({})",
                    msg.reason
                ),
            )
        };
        ledger.push(serde_json::json!([result.id(), decision.as_str(), reason]));
        out.push(result);
    }
    // The ledger rows copy the message's columns from its outbox row (as a single enqueue
    // does), in the messages' order; `CROSS JOIN` keeps the array as the outer loop (a
    // primary-key lookup per message).
    sqlx::query(
        "INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
         SELECT ?1, o.key, o.shop, o.order_id, o.customer_id, o.channel, l.value ->> 1, l.value ->> 2
         FROM json_each(?2) AS l CROSS JOIN outbox AS o ON o.id = l.value ->> 0
         ORDER BY l.key",
    )
    .bind(now.timestamp_micros())
    .bind(serde_json::Value::Array(ledger).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(out)
}
