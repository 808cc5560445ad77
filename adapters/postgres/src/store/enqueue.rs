//! `Outbox::enqueue_many` as three statements per chunk: the messages bound as arrays and
//! inserted by one `INSERT ... SELECT FROM UNNEST` (duplicates skipped by the key's unique
//! index), the ids of keys already taken read by one query, and every ledger row written by
//! one more. One message at a time cost two or three round trips each (33.9 s for 100,000
//! messages on a private server).

use std::collections::HashMap;

use aftercare::model::{CustomerId, OrderId, ShopId};
use aftercare::store::{Decision, Enqueue, NewOutboxMessage, address_hash};
use chrono::{DateTime, Utc};

/// Enqueues `msgs` in the caller's transaction, answering for each in order as
/// `Outbox::enqueue` does: the first of a key not yet queued is new, every other one a
/// duplicate of the row holding the key; each gets its ledger row, in order.
pub(super) async fn enqueue_chunk(
    conn: &mut sqlx::PgConnection,
    msgs: &[NewOutboxMessage],
    now: DateTime<Utc>,
) -> Result<Vec<Enqueue>, sqlx::Error> {
    if msgs.is_empty() {
        return Ok(Vec::new());
    }
    let n = msgs.len();
    let (
        mut keys,
        mut shops,
        mut orders,
        mut customers,
        mut channels,
        mut hashes,
        mut bodies,
        mut due,
    ) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for msg in msgs {
        let m = &msg.message;
        keys.push(msg.key.as_str());
        shops.push(m.shop.as_ref().map(ShopId::as_str));
        orders.push(m.order_id.as_ref().map(OrderId::as_str));
        customers.push(m.customer_id.as_ref().map(CustomerId::as_str));
        channels.push(m.channel.as_str());
        hashes.push(address_hash(&m.to));
        bodies.push(serde_json::to_string(m).map_err(|e| sqlx::Error::Encode(Box::new(e)))?);
        due.push(msg.due_at);
    }
    // Rows go in array order (`ORDER BY n`), so ids follow the messages' order; a key twice
    // in the chunk is inserted once (`DO NOTHING` sees the row the statement just made).
    let made: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO outbox (key, shop, order_id, customer_id, channel, recipient_hash, message, due_at, created_at)
         SELECT key, shop, order_id, customer_id, channel, recipient_hash, message::jsonb, due_at, $9
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
              WITH ORDINALITY AS m(key, shop, order_id, customer_id, channel, recipient_hash, message, due_at, n)
         ORDER BY n
         ON CONFLICT (key) DO NOTHING RETURNING id, key",
    )
    .bind(&keys)
    .bind(&shops)
    .bind(&orders)
    .bind(&customers)
    .bind(&channels)
    .bind(&hashes)
    .bind(&bodies)
    .bind(&due)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let mut made: HashMap<String, i64> = made.into_iter().map(|(id, k)| (k, id)).collect();
    // Keys that were taken before this chunk (or twice in it).
    let mut taken: HashMap<String, i64> = HashMap::new();
    let others: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !made.contains_key(*k))
        .collect();
    if !others.is_empty() {
        let found: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, key FROM outbox WHERE key = ANY($1::text[])")
                .bind(&others)
                .fetch_all(&mut *conn)
                .await?;
        taken.extend(found.into_iter().map(|(id, k)| (k, id)));
    }
    let mut out = Vec::with_capacity(n);
    let (mut ids, mut decisions, mut reasons) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
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
        ids.push(result.id());
        decisions.push(decision.as_str());
        reasons.push(reason);
        out.push(result);
    }
    // The ledger rows copy the message's columns from its outbox row (as a single enqueue
    // does), in the messages' order.
    sqlx::query(
        "INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
         SELECT $1, o.key, o.shop, o.order_id, o.customer_id, o.channel, l.decision, l.reason
         FROM UNNEST($2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS l(id, decision, reason, n)
         JOIN outbox AS o ON o.id = l.id
         ORDER BY l.n",
    )
    .bind(now)
    .bind(&ids)
    .bind(&decisions)
    .bind(&reasons)
    .execute(&mut *conn)
    .await?;
    Ok(out)
}
