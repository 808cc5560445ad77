//! Every storage trait of the sdk in SQLite's dialect.
//!
//! One file past 800 lines: it is the one place each trait's SQL lives, trait by trait in the
//! order of `aftercare::store`; the writer, the schema, the codecs and the key map are in their
//! own modules.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aftercare::Error;
use aftercare::model::{
    ChannelKind, ConsentState, CustomerId, Invitation, OrderId, OutboundMessage, Purpose, Receipt,
    ShopId, SurveyKind, SurveyResponse,
};
use aftercare::store::{
    Claimed, ConsentRecord, ConsentStore, CustomerRedaction, Decision, Enqueue, Inbox, InboxEntry,
    InboxInsert, InboxStatus, Ledger, LedgerEntry, NewInboxEntry, NewOutboxMessage, Outbox,
    OutboxEntry, OutboxStatus, RedactionReport, Redactor, Resolution, SentRecord, Snapshot,
    SnapshotStore, SurveyComment, SurveyStore, UncertainEntry, address_hash,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;

mod enqueue;
mod values;
mod work;

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::decode("stored time", format!("{us} µs is out of range")))
}

fn opt_time(us: Option<i64>) -> Result<Option<DateTime<Utc>>, Error> {
    us.map(from_micros).transpose()
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> i64 {
    micros(now).saturating_add(i64::try_from(lease.as_micros()).unwrap_or(i64::MAX))
}

fn db(op: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |e| Error::storage(op, e)
}

fn get<'r, T>(row: &'r SqliteRow, col: &str) -> Result<T, Error>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(col)
        .map_err(|e| Error::storage("read a stored row", e))
}

use aftercare::store::rules::stored as parse_or;

/// An inbox row's columns; its body is in `inbox_bodies` under the same id.
const INBOX_COLS: &str = "id, source, dedupe_key, topic, shop, occurred_at, meta, body_codec, received_at, status, attempts, next_attempt_at, last_error";

/// [`INBOX_COLS`] of `inbox AS i`, with the body of `inbox_bodies AS b`.
const INBOX_WITH_BODY: &str = "i.id, i.source, i.dedupe_key, i.topic, i.shop, i.occurred_at, i.meta, i.body_codec, i.received_at, i.status, i.attempts, i.next_attempt_at, i.last_error, b.body";

/// An entry from a row read with [`INBOX_WITH_BODY`].
fn inbox_row(row: &SqliteRow) -> Result<InboxEntry, Error> {
    inbox_row_with(row, get(row, "body")?)
}

/// An entry from a row of [`INBOX_COLS`] and its stored body.
fn inbox_row_with(row: &SqliteRow, stored: Vec<u8>) -> Result<InboxEntry, Error> {
    let meta: String = get(row, "meta")?;
    let status: String = get(row, "status")?;
    let attempts: i64 = get(row, "attempts")?;
    let codec: String = get(row, "body_codec")?;
    let mut e = InboxEntry::new(
        get(row, "id")?,
        get::<String>(row, "source")?,
        get::<String>(row, "dedupe_key")?,
        crate::codec::decode(stored, &codec)?,
        from_micros(get(row, "received_at")?)?,
    );
    e.topic = get(row, "topic")?;
    e.shop = get(row, "shop")?;
    e.occurred_at = opt_time(get(row, "occurred_at")?)?;
    e.meta = serde_json::from_str::<BTreeMap<String, String>>(&meta)
        .map_err(|e| Error::decode("stored inbox meta", e))?;
    e.status = parse_or("inbox status", InboxStatus::parse(&status), &status)?;
    e.attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    e.next_attempt_at = from_micros(get(row, "next_attempt_at")?)?;
    e.last_error = get(row, "last_error")?;
    Ok(e)
}

const OUTBOX_COLS: &str = "id, key, message, status, due_at, attempts, created_at, provider_message_id, accepted_at, last_error, recovered";

fn outbox_row(row: &SqliteRow) -> Result<OutboxEntry, Error> {
    let message: String = get(row, "message")?;
    let status: String = get(row, "status")?;
    let attempts: i64 = get(row, "attempts")?;
    let pid: Option<String> = get(row, "provider_message_id")?;
    let accepted = opt_time(get(row, "accepted_at")?)?;
    let mut e = OutboxEntry::new(
        get(row, "id")?,
        get::<String>(row, "key")?,
        serde_json::from_str::<OutboundMessage>(&message)
            .map_err(|e| Error::decode("stored outbox message", e))?,
        parse_or("outbox status", OutboxStatus::parse(&status), &status)?,
        from_micros(get(row, "due_at")?)?,
        u32::try_from(attempts).unwrap_or(u32::MAX),
        from_micros(get(row, "created_at")?)?,
    );
    e.receipt = match (pid, accepted) {
        (Some(p), Some(at)) => Some(Receipt::new(p, at)),
        _ => None,
    };
    e.last_error = get(row, "last_error")?;
    Ok(e)
}

fn ledger_row(row: &SqliteRow) -> Result<LedgerEntry, Error> {
    let decision: String = get(row, "decision")?;
    let channel: Option<String> = get(row, "channel")?;
    let mut e = LedgerEntry::new(
        from_micros(get(row, "at")?)?,
        parse_or("ledger decision", Decision::parse(&decision), &decision)?,
        get::<String>(row, "reason")?,
    );
    e.key = get(row, "key")?;
    e.shop = get::<Option<String>>(row, "shop")?.map(ShopId::new);
    e.order_id = get::<Option<String>>(row, "order_id")?.map(OrderId::new);
    e.customer_id = get::<Option<String>>(row, "customer_id")?.map(CustomerId::new);
    e.channel = match channel {
        Some(c) => Some(parse_or("channel", ChannelKind::parse(&c), &c)?),
        None => None,
    };
    Ok(e)
}

fn invitation_row(row: &SqliteRow) -> Result<Invitation, Error> {
    let kind: String = get(row, "kind")?;
    let channel: String = get(row, "channel")?;
    let mut i = Invitation::new(
        get::<String>(row, "id")?,
        parse_or("survey kind", SurveyKind::parse(&kind), &kind)?,
        OrderId::new(get::<String>(row, "order_id")?),
        parse_or("channel", ChannelKind::parse(&channel), &channel)?,
        get::<String>(row, "locale")?,
        from_micros(get(row, "sent_at")?)?,
        from_micros(get(row, "closes_at")?)?,
    );
    i.shop = get::<Option<String>>(row, "shop")?.map(ShopId::new);
    i.customer_id = get::<Option<String>>(row, "customer_id")?.map(CustomerId::new);
    Ok(i)
}

fn response_row(row: &SqliteRow) -> Result<SurveyResponse, Error> {
    let kind: String = get(row, "kind")?;
    let score: i64 = get(row, "score")?;
    let mut r = SurveyResponse::new(
        get::<String>(row, "invitation_id")?,
        parse_or("survey kind", SurveyKind::parse(&kind), &kind)?,
        OrderId::new(get::<String>(row, "order_id")?),
        u8::try_from(score).map_err(|e| Error::decode("stored score", e))?,
        get::<String>(row, "via")?,
        from_micros(get(row, "answered_at")?)?,
    );
    r.customer_id = get::<Option<String>>(row, "customer_id")?.map(CustomerId::new);
    r.comment = get(row, "comment")?;
    Ok(r)
}

#[async_trait]
impl Inbox for SqliteStore {
    async fn insert(&self, entry: NewInboxEntry) -> Result<InboxInsert, Error> {
        self.writer.insert(&self.pool, entry).await
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<InboxEntry>, Error> {
        let t0 = std::time::Instant::now();
        let _w = self.writing().await;
        let locked = t0.elapsed();
        let rows = sqlx::query(&format!(
            "UPDATE inbox SET attempts = attempts + 1, next_attempt_at = ?1
             WHERE id IN (SELECT id FROM inbox WHERE status = 'pending' AND next_attempt_at <= ?2
                          ORDER BY next_attempt_at, id LIMIT ?3)
             RETURNING {INBOX_COLS}"
        ))
        .bind(lease_end(now, lease))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("claim from the inbox"))?;
        // The bodies are read after the claim, without the writer's turn: they never change
        // once stored.
        drop(_w);
        let queried = t0.elapsed();
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| get::<i64>(r, "id"))
            .collect::<Result<_, _>>()?;
        let mut bodies = self.inbox_bodies(&ids).await?;
        let bodies_read = t0.elapsed();
        let mut out = Vec::with_capacity(rows.len());
        for (row, id) in rows.iter().zip(&ids) {
            let body = bodies.remove(id).unwrap_or_else(|| {
                // Not expected (the body is stored with its row, in one transaction): the
                // entry then fails to decode and is dead-lettered with the decoder's reason.
                tracing::error!(id, "an inbox row has no stored body");
                Vec::new()
            });
            out.push(inbox_row_with(row, body)?);
        }
        out.sort_by_key(|e| e.id);
        tracing::debug!(
            entries = out.len(),
            lock_us = locked.as_micros() as u64,
            query_us = (queried - locked).as_micros() as u64,
            bodies_us = (bodies_read - queried).as_micros() as u64,
            rows_us = (t0.elapsed() - bodies_read).as_micros() as u64,
            "inbox claimed"
        );
        Ok(out)
    }

    async fn complete(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        let _w = self.writing().await;
        sqlx::query(
            "UPDATE inbox SET status = 'done', finished_at = ?, last_error = NULL WHERE id = ?",
        )
        .bind(micros(now))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db("complete an inbox entry"))?;
        Ok(())
    }

    async fn complete_many(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        // One statement and one commit for a processor's batch; the ids travel as one JSON
        // array (no limit on bound values).
        let list = serde_json::to_string(ids).map_err(|e| Error::decode("inbox ids", e))?;
        let _w = self.writing().await;
        sqlx::query(
            "UPDATE inbox SET status = 'done', finished_at = ?, last_error = NULL WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(micros(now))
        .bind(list)
        .execute(&self.pool)
        .await
        .map_err(db("complete inbox entries"))?;
        Ok(())
    }

    async fn retry_at(&self, id: i64, at: DateTime<Utc>, error: &str) -> Result<(), Error> {
        let _w = self.writing().await;
        sqlx::query("UPDATE inbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'")
            .bind(micros(at))
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("reschedule an inbox entry"))?;
        Ok(())
    }

    async fn dead_letter(&self, id: i64, reason: &str) -> Result<(), Error> {
        let _w = self.writing().await;
        sqlx::query("UPDATE inbox SET status = 'dead', last_error = ? WHERE id = ?")
            .bind(reason)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("dead-letter an inbox entry"))?;
        Ok(())
    }

    async fn inbox_entry(&self, id: i64) -> Result<Option<InboxEntry>, Error> {
        sqlx::query(&format!(
            "SELECT {INBOX_WITH_BODY} FROM inbox AS i JOIN inbox_bodies AS b ON b.id = i.id WHERE i.id = ?"
        ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read an inbox entry"))?
            .as_ref()
            .map(inbox_row)
            .transpose()
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<InboxEntry>, Error> {
        sqlx::query(&format!(
            "SELECT {INBOX_WITH_BODY} FROM inbox AS i INDEXED BY inbox_dead JOIN inbox_bodies AS b ON b.id = i.id
             WHERE i.status = 'dead' ORDER BY i.id DESC LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("list dead letters"))?
        .iter()
        .map(inbox_row)
        .collect()
    }

    async fn requeue(&self, id: i64, at: DateTime<Utc>) -> Result<bool, Error> {
        let _w = self.writing().await;
        let r = sqlx::query("UPDATE inbox SET status = 'pending', next_attempt_at = ? WHERE id = ? AND status = 'dead'")
            .bind(micros(at))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("requeue a dead letter"))?;
        Ok(r.rows_affected() == 1)
    }
}

const LEDGER_FROM_OUTBOX: &str =
    "INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
     SELECT ?, key, shop, order_id, customer_id, channel, ?, ? FROM outbox WHERE id = ?";

/// Writes the ledger row of an outbox transition, in the transition's own transaction.
async fn ledger_from_outbox(
    conn: &mut sqlx::SqliteConnection,
    now: DateTime<Utc>,
    decision: &str,
    reason: &str,
    id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(LEDGER_FROM_OUTBOX)
        .bind(micros(now))
        .bind(decision)
        .bind(reason)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn enqueue(&self, msg: NewOutboxMessage, now: DateTime<Utc>) -> Result<Enqueue, Error> {
        // Shares a transaction with the writes asked for at the same time (`flow_writer.rs`).
        match self
            .flow_writer
            .write(
                &self.pool,
                crate::flow_writer::Op::Enqueue(Box::new(msg), now),
            )
            .await?
        {
            crate::flow_writer::Done::Enqueued(e) => Ok(e),
            other => Err(Error::storage(
                "enqueue a message",
                format!("the flow writer answered {other:?}"),
            )),
        }
    }

    async fn enqueue_many(
        &self,
        msgs: Vec<NewOutboxMessage>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueue>, Error> {
        let err = db("enqueue messages");
        let mut out = Vec::with_capacity(msgs.len());
        // Transactions of up to 512 messages, a few statements each (`store/enqueue.rs`):
        // one commit each, and the write lock is given up between them so webhooks are not
        // held up behind a large batch.
        for chunk in msgs.chunks(512) {
            let _w = self.writing().await;
            let mut tx = self.pool.begin().await.map_err(&err)?;
            out.extend(
                enqueue::enqueue_chunk(&mut tx, chunk, now)
                    .await
                    .map_err(&err)?,
            );
            tx.commit().await.map_err(&err)?;
        }
        Ok(out)
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Claimed>, Error> {
        let _w = self.writing().await;
        // Due messages and expired claims are read by two ordered index scans that stop at
        // the limit: one `OR` made SQLite collect and sort every due row on each claim, so
        // each claim's time and memory grew with the queue.
        let rows = sqlx::query(&format!(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_until = ?1,
                    recovered = CASE WHEN status = 'sending' THEN 1 ELSE 0 END
             WHERE id IN (SELECT id FROM (
                 SELECT id, due_at FROM (SELECT id, due_at FROM outbox
                     WHERE status = 'pending' AND due_at <= ?2 ORDER BY due_at, id LIMIT ?3)
                 UNION ALL
                 SELECT id, due_at FROM (SELECT id, due_at FROM outbox
                     WHERE status = 'sending' AND claimed_until <= ?2 ORDER BY due_at, id LIMIT ?3)
                 ORDER BY due_at, id LIMIT ?3))
             RETURNING {OUTBOX_COLS}"
        ))
        .bind(lease_end(now, lease))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("claim due messages"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let entry = outbox_row(row)?;
            let recovered: i64 = get(row, "recovered")?;
            let attempt = entry.attempts;
            out.push(Claimed::new(entry, attempt, recovered != 0));
        }
        out.sort_by_key(|c| (c.entry.due_at, c.entry.id));
        Ok(out)
    }

    async fn mark_sent(
        &self,
        id: i64,
        attempt: u32,
        receipt: &Receipt,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, Error> {
        let _w = self.writing().await;
        let err = db("record a sent message");
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let r = sqlx::query(
            "UPDATE outbox SET status = 'sent', provider_message_id = ?, accepted_at = ?, claimed_until = NULL, last_error = NULL
             WHERE id = ? AND status = 'sending' AND attempts = ?",
        )
        .bind(&receipt.provider_message_id)
        .bind(micros(receipt.accepted_at))
        .bind(id)
        .bind(i64::from(attempt))
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        ledger_from_outbox(&mut tx, now, Decision::Sent.as_str(), reason, id)
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(true)
    }

    async fn mark_sent_many(
        &self,
        sends: &[SentRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, Error> {
        if sends.is_empty() {
            return Ok(Vec::new());
        }
        let err = db("record sent messages");
        // A message named twice is recorded once, by its first record (as `mark_sent` one
        // after the other would answer).
        let mut seen = std::collections::HashSet::with_capacity(sends.len());
        let firsts: Vec<bool> = sends.iter().map(|s| seen.insert(s.id)).collect();
        // The batch is bound as one JSON array: one statement for the state of every message
        // and one for their ledger rows, in one transaction.
        let batch = serde_json::Value::Array(
            sends
                .iter()
                .zip(&firsts)
                .filter(|(_, first)| **first)
                .map(|(s, _)| {
                    serde_json::json!([
                        s.id,
                        s.attempt,
                        s.receipt.provider_message_id,
                        micros(s.receipt.accepted_at)
                    ])
                })
                .collect(),
        )
        .to_string();
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await.map_err(&err)?;
        // `+outbox.status`: the batch drives the join (a primary-key lookup per message)
        // rather than a scan of every `sending` row.
        let updated: Vec<i64> = sqlx::query_scalar(
            "UPDATE outbox SET status = 'sent', provider_message_id = s.value ->> 2,
                    accepted_at = s.value ->> 3, claimed_until = NULL, last_error = NULL
             FROM json_each(?) AS s
             WHERE outbox.id = s.value ->> 0 AND +outbox.status = 'sending'
               AND outbox.attempts = s.value ->> 1
             RETURNING outbox.id",
        )
        .bind(batch)
        .fetch_all(&mut *tx)
        .await
        .map_err(&err)?;
        let updated: std::collections::HashSet<i64> = updated.into_iter().collect();
        let answers: Vec<bool> = sends
            .iter()
            .zip(&firsts)
            .map(|(s, first)| *first && updated.contains(&s.id))
            .collect();
        if !updated.is_empty() {
            let reasons = serde_json::Value::Array(
                sends
                    .iter()
                    .zip(&answers)
                    .filter(|(_, ok)| **ok)
                    .map(|(s, _)| serde_json::json!([s.id, s.reason]))
                    .collect(),
            )
            .to_string();
            sqlx::query(
                "INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
                 SELECT ?, o.key, o.shop, o.order_id, o.customer_id, o.channel, ?, r.value ->> 1
                 FROM json_each(?) AS r JOIN outbox o ON o.id = r.value ->> 0
                 ORDER BY r.key",
            )
            .bind(micros(now))
            .bind(Decision::Sent.as_str())
            .bind(reasons)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        }
        tx.commit().await.map_err(&err)?;
        Ok(answers)
    }

    async fn reschedule(
        &self,
        id: i64,
        attempt: u32,
        due_at: DateTime<Utc>,
        decision: Decision,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let _w = self.writing().await;
        let err = db("reschedule a message");
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let r = sqlx::query(
            "UPDATE outbox SET status = 'pending', due_at = ?, claimed_until = NULL, last_error = ?
             WHERE id = ? AND status = 'sending' AND attempts = ?",
        )
        .bind(micros(due_at))
        .bind(reason)
        .bind(id)
        .bind(i64::from(attempt))
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        ledger_from_outbox(&mut tx, now, decision.as_str(), reason, id)
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(true)
    }

    async fn finish(
        &self,
        id: i64,
        attempt: u32,
        status: OutboxStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let _w = self.writing().await;
        let decision = aftercare::store::rules::finish_decision(status)?;
        let err = db("finish a message");
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let r = sqlx::query(
            "UPDATE outbox SET status = ?, claimed_until = NULL, last_error = ?
             WHERE id = ? AND status = 'sending' AND attempts = ?",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(id)
        .bind(i64::from(attempt))
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        ledger_from_outbox(&mut tx, now, decision.as_str(), reason, id)
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(true)
    }

    async fn uncertain_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UncertainEntry>, Error> {
        // Uncertain messages are few (a timeout each); the time each became uncertain is
        // its latest `uncertain` ledger row, found through `ledger_key`.
        let rows = sqlx::query(&format!(
            "SELECT * FROM (
                 SELECT {OUTBOX_COLS}, coalesce(
                     (SELECT max(l.at) FROM ledger l WHERE l.key = outbox.key AND l.decision = 'uncertain'),
                     created_at) AS uncertain_at
                 FROM outbox INDEXED BY outbox_status WHERE status = 'uncertain')
             WHERE uncertain_at < ? ORDER BY uncertain_at, id LIMIT ?"
        ))
        .bind(micros(before))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("list uncertain messages"))?;
        rows.iter()
            .map(|row| {
                Ok(UncertainEntry::new(
                    outbox_row(row)?,
                    from_micros(get(row, "uncertain_at")?)?,
                ))
            })
            .collect()
    }

    async fn resolve_uncertain(
        &self,
        id: i64,
        resolution: &Resolution,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let _w = self.writing().await;
        let err = db("resolve an uncertain message");
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let decision = resolution.decision();
        let update = match resolution {
            Resolution::Sent(receipt) => {
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', provider_message_id = ?, accepted_at = ?, last_error = NULL
                     WHERE id = ? AND status = 'uncertain'",
                )
                .bind(&receipt.provider_message_id)
                .bind(micros(receipt.accepted_at))
            }
            Resolution::Resend(due_at) => {
                sqlx::query(
                    "UPDATE outbox SET status = 'pending', due_at = ?, last_error = ?
                     WHERE id = ? AND status = 'uncertain'",
                )
                .bind(micros(*due_at))
                .bind(reason)
            }
            Resolution::Abandon => {
                sqlx::query(
                    "UPDATE outbox SET status = 'abandoned', last_error = ? WHERE id = ? AND status = 'uncertain'",
                )
                .bind(reason)
            }
            other => {
                return Err(Error::Config(format!(
                    "this store does not know the resolution {other:?}"
                )));
            }
        };
        let r = update.bind(id).execute(&mut *tx).await.map_err(&err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        ledger_from_outbox(&mut tx, now, decision.as_str(), reason, id)
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(true)
    }

    async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, Error> {
        sqlx::query(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read a message"))?
            .as_ref()
            .map(outbox_row)
            .transpose()
    }

    async fn outbox_by_key(&self, key: &str) -> Result<Option<OutboxEntry>, Error> {
        sqlx::query(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE key = ?"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read a message by key"))?
            .as_ref()
            .map(outbox_row)
            .transpose()
    }

    async fn outbox_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<OutboxEntry>, Error> {
        sqlx::query(&format!(
            "SELECT {OUTBOX_COLS} FROM outbox WHERE provider_message_id = ? ORDER BY id DESC LIMIT 1"
        ))
        .bind(provider_message_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("read a message by its provider id"))?
        .as_ref()
        .map(outbox_row)
        .transpose()
    }

    async fn latest_sent_to(
        &self,
        channel: ChannelKind,
        address: &str,
        key_prefix: &str,
    ) -> Result<Option<OutboxEntry>, Error> {
        let pattern = format!(
            "{}%",
            key_prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        sqlx::query(&format!(
            "SELECT {OUTBOX_COLS} FROM outbox
             WHERE channel = ? AND recipient_hash = ? AND status = 'sent' AND key LIKE ? ESCAPE '\\'
             ORDER BY accepted_at DESC, id DESC LIMIT 1"
        ))
        .bind(channel.as_str())
        .bind(address_hash(address))
        .bind(pattern)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("find the last message sent to an address"))?
        .as_ref()
        .map(outbox_row)
        .transpose()
    }

    async fn outbox_in(&self, status: OutboxStatus, limit: u32) -> Result<Vec<OutboxEntry>, Error> {
        sqlx::query(&format!(
            "SELECT {OUTBOX_COLS} FROM outbox INDEXED BY outbox_status WHERE status = ? ORDER BY id LIMIT ?"
        ))
        .bind(status.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("list messages"))?
        .iter()
        .map(outbox_row)
        .collect()
    }
}

const LEDGER_COLS: &str = "at, key, shop, order_id, customer_id, channel, decision, reason";

#[async_trait]
impl Ledger for SqliteStore {
    async fn record(&self, e: LedgerEntry) -> Result<(), Error> {
        // Shares a transaction with the writes asked for at the same time (`flow_writer.rs`).
        match self
            .flow_writer
            .write(&self.pool, crate::flow_writer::Op::Ledger(e))
            .await?
        {
            crate::flow_writer::Done::Recorded => Ok(()),
            other => Err(Error::storage(
                "write the ledger",
                format!("the flow writer answered {other:?}"),
            )),
        }
    }

    async fn ledger_for_order(&self, order: &OrderId) -> Result<Vec<LedgerEntry>, Error> {
        sqlx::query(&format!(
            "SELECT {LEDGER_COLS} FROM ledger WHERE order_id = ? ORDER BY at, id"
        ))
        .bind(order.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db("read the ledger"))?
        .iter()
        .map(ledger_row)
        .collect()
    }

    async fn ledger_for_key(&self, key: &str) -> Result<Vec<LedgerEntry>, Error> {
        sqlx::query(&format!(
            "SELECT {LEDGER_COLS} FROM ledger WHERE key = ? ORDER BY at, id"
        ))
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .map_err(db("read the ledger"))?
        .iter()
        .map(ledger_row)
        .collect()
    }
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn set_consent(&self, r: ConsentRecord) -> Result<(), Error> {
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO consent (channel, address_hash, purpose, state, source, at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (channel, address_hash, purpose) DO UPDATE
               SET state = excluded.state, source = excluded.source, at = excluded.at
               WHERE excluded.at >= consent.at",
        )
        .bind(r.channel.as_str())
        .bind(&r.address_hash)
        .bind(r.purpose.map_or("*", Purpose::as_str))
        .bind(r.state.as_str())
        .bind(&r.source)
        .bind(micros(r.at))
        .execute(&self.pool)
        .await
        .map_err(db("record consent"))?;
        Ok(())
    }

    async fn consent(
        &self,
        channel: ChannelKind,
        address: &str,
        purpose: Purpose,
    ) -> Result<Option<ConsentRecord>, Error> {
        let row = sqlx::query(
            "SELECT channel, address_hash, purpose, state, source, at FROM consent
             WHERE channel = ? AND address_hash = ? AND purpose IN (?, '*')
             ORDER BY at DESC, purpose = '*' ASC LIMIT 1",
        )
        .bind(channel.as_str())
        .bind(address_hash(address))
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("read consent"))?;
        let Some(row) = row else { return Ok(None) };
        consent_from_row(&row, channel).map(Some)
    }
}

/// A consent row (`address_hash`, `purpose`, `state`, `source`, `at`) of `channel`.
pub(crate) fn consent_from_row(
    row: &SqliteRow,
    channel: ChannelKind,
) -> Result<ConsentRecord, Error> {
    let state: String = get(row, "state")?;
    let p: String = get(row, "purpose")?;
    let mut rec = ConsentRecord::new(
        channel,
        "",
        if p == "*" {
            None
        } else {
            Some(parse_or("purpose", Purpose::parse(&p), &p)?)
        },
        parse_or("consent state", ConsentState::parse(&state), &state)?,
        get::<String>(row, "source")?,
        from_micros(get(row, "at")?)?,
    );
    rec.address_hash = get(row, "address_hash")?;
    Ok(rec)
}

#[async_trait]
impl SurveyStore for SqliteStore {
    async fn save_invitation(&self, i: &Invitation) -> Result<bool, Error> {
        let _w = self.writing().await;
        let r = sqlx::query(
            "INSERT INTO invitations (id, kind, shop, order_id, customer_id, channel, locale, sent_at, closes_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&i.id)
        .bind(i.kind.as_str())
        .bind(i.shop.as_ref().map(ShopId::as_str))
        .bind(i.order_id.as_str())
        .bind(i.customer_id.as_ref().map(CustomerId::as_str))
        .bind(i.channel.as_str())
        .bind(&i.locale)
        .bind(micros(i.sent_at))
        .bind(micros(i.closes_at))
        .execute(&self.pool)
        .await
        .map_err(db("save an invitation"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, Error> {
        sqlx::query("SELECT * FROM invitations WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read an invitation"))?
            .as_ref()
            .map(invitation_row)
            .transpose()
    }

    async fn record_response(&self, r: &SurveyResponse) -> Result<bool, Error> {
        let _w = self.writing().await;
        let res = sqlx::query(
            "INSERT INTO responses (invitation_id, kind, order_id, customer_id, score, comment, via, answered_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (invitation_id) DO NOTHING",
        )
        .bind(&r.invitation_id)
        .bind(r.kind.as_str())
        .bind(r.order_id.as_str())
        .bind(r.customer_id.as_ref().map(CustomerId::as_str))
        .bind(i64::from(r.score))
        .bind(&r.comment)
        .bind(&r.via)
        .bind(micros(r.answered_at))
        .execute(&self.pool)
        .await
        .map_err(db("record a survey answer"))?;
        Ok(res.rows_affected() == 1)
    }

    async fn invitations_for_customer(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Invitation>, Error> {
        sqlx::query("SELECT * FROM invitations WHERE customer_id = ? AND sent_at >= ? ORDER BY sent_at DESC, id")
            .bind(customer.as_str())
            .bind(micros(since))
            .fetch_all(&self.pool)
            .await
            .map_err(db("list a customer's invitations"))?
            .iter()
            .map(invitation_row)
            .collect()
    }

    async fn response(&self, invitation_id: &str) -> Result<Option<SurveyResponse>, Error> {
        sqlx::query("SELECT * FROM responses WHERE invitation_id = ?")
            .bind(invitation_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read a survey answer"))?
            .as_ref()
            .map(response_row)
            .transpose()
    }

    async fn responses_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyResponse>, Error> {
        sqlx::query("SELECT * FROM responses WHERE answered_at >= ? AND answered_at < ? ORDER BY answered_at, invitation_id")
            .bind(micros(from))
            .bind(micros(to))
            .fetch_all(&self.pool)
            .await
            .map_err(db("read survey answers"))?
            .iter()
            .map(response_row)
            .collect()
    }

    async fn add_comment(
        &self,
        invitation_id: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO survey_comments (invitation_id, at, text) VALUES (?, ?, ?)
             ON CONFLICT (invitation_id, at, text) DO NOTHING",
        )
        .bind(invitation_id)
        .bind(micros(at))
        .bind(text)
        .execute(&self.pool)
        .await
        .map_err(db("keep a survey comment"))?;
        Ok(())
    }

    async fn comments(&self, invitation_id: &str) -> Result<Vec<SurveyComment>, Error> {
        let rows = sqlx::query(
            "SELECT at, text FROM survey_comments WHERE invitation_id = ? ORDER BY at, id",
        )
        .bind(invitation_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("read survey comments"))?;
        rows.iter()
            .map(|row| {
                Ok(SurveyComment::new(
                    from_micros(get(row, "at")?)?,
                    get::<String>(row, "text")?,
                ))
            })
            .collect()
    }
}

impl SqliteStore {
    /// The stored bodies of inbox rows `ids`, by id (one query; the ids travel as one JSON
    /// array).
    async fn inbox_bodies(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<u8>>, Error> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = serde_json::to_string(ids).map_err(|e| Error::decode("inbox ids", e))?;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, body FROM inbox_bodies WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await
        .map_err(db("read claimed inbox bodies"))?;
        Ok(rows.into_iter().collect())
    }

    /// The inbox rows (of `shop`, or of no shop) whose body contains one of `needles`,
    /// read a page at a time so no read transaction stays open for long.
    async fn inbox_ids_mentioning(
        &self,
        shop: Option<&str>,
        needles: &[&str],
    ) -> Result<Vec<i64>, Error> {
        const PAGE: i64 = 256;
        let finders: Vec<memchr::memmem::Finder<'_>> = needles
            .iter()
            .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
            .collect();
        let mut found = Vec::new();
        if finders.is_empty() {
            return Ok(found);
        }
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT i.id, b.body, i.body_codec FROM inbox AS i JOIN inbox_bodies AS b ON b.id = i.id
                 WHERE i.id > ?1 AND (?2 IS NULL OR i.shop = ?2 OR i.shop IS NULL)
                 ORDER BY i.id LIMIT ?3",
            )
            .bind(after)
            .bind(shop)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await
            .map_err(db("search the inbox for a customer's addresses"))?;
            for row in &rows {
                let id: i64 = get(row, "id")?;
                let stored: &[u8] = get(row, "body")?;
                let codec: &str = get(row, "body_codec")?;
                let body = crate::codec::decode_ref(stored, codec).map_err(|e| {
                    Error::storage(
                        "redact a customer",
                        format!("inbox row {id} cannot be read ({e}); delete it by hand, then redact again"),
                    )
                })?;
                if finders.iter().any(|f| f.find(&body).is_some()) {
                    found.push(id);
                }
                after = id;
            }
            if (rows.len() as i64) < PAGE {
                return Ok(found);
            }
        }
    }
}

#[async_trait]
impl Redactor for SqliteStore {
    async fn redact_customer(&self, req: &CustomerRedaction) -> Result<RedactionReport, Error> {
        let err = db("redact a customer");
        let shop = req.shop.as_ref().map(ShopId::as_str);
        let customer = req.customer_id.as_ref().map(CustomerId::as_str);
        let mut report = RedactionReport::default();
        let addresses: Vec<&str> = req
            .addresses
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .collect();
        // Bodies may be stored compressed, so they are searched here rather than in SQL,
        // before the transaction (which starts with its first write, see the crate docs).
        let inbox_ids = self.inbox_ids_mentioning(shop, &addresses).await?;
        let mut inbox_gone: Vec<crate::writer::Deleted> = Vec::new();
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await.map_err(&err)?;
        for chunk in inbox_ids.chunks(500) {
            let sql = format!(
                "DELETE FROM inbox WHERE id IN ({}) RETURNING id, source, dedupe_key, content_key",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut q = sqlx::query_as(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            inbox_gone.extend(q.fetch_all(&mut *tx).await.map_err(&err)?);
        }
        report.inbox_deleted = inbox_gone.len() as u64;
        for addr in addresses {
            let h = address_hash(addr);
            let r = sqlx::query("DELETE FROM outbox WHERE recipient_hash = ?")
                .bind(&h)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            report.outbox_deleted += r.rows_affected();
            let r = sqlx::query("DELETE FROM consent WHERE address_hash = ? AND state = 'granted'")
                .bind(&h)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            report.consents_deleted += r.rows_affected();
        }
        if let Some(c) = customer {
            let r = sqlx::query("DELETE FROM outbox WHERE customer_id = ? AND (?2 IS NULL OR shop = ?2 OR shop IS NULL)")
                .bind(c)
                .bind(shop)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            report.outbox_deleted += r.rows_affected();
            sqlx::query("UPDATE ledger SET customer_id = NULL WHERE customer_id = ? AND (?2 IS NULL OR shop = ?2 OR shop IS NULL)")
                .bind(c)
                .bind(shop)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
        }
        let mut orders: Vec<&str> = req.orders.iter().map(OrderId::as_str).collect();
        orders.sort_unstable();
        orders.dedup();
        // Answers: by customer, and by the orders named.
        let r = sqlx::query(
            "UPDATE responses SET customer_id = NULL, comment = NULL
             WHERE (customer_id IS NOT NULL OR comment IS NOT NULL)
               AND (customer_id = ?1 OR order_id IN (SELECT value FROM json_each(?2)))",
        )
        .bind(customer)
        .bind(serde_json::to_string(&orders).unwrap_or_else(|_| "[]".into()))
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        report.responses_anonymised += r.rows_affected();
        report.comments_deleted += sqlx::query(
            "DELETE FROM survey_comments WHERE invitation_id IN (SELECT id FROM invitations
               WHERE customer_id = ?1 OR order_id IN (SELECT value FROM json_each(?2)))",
        )
        .bind(customer)
        .bind(serde_json::to_string(&orders).unwrap_or_else(|_| "[]".into()))
        .execute(&mut *tx)
        .await
        .map_err(&err)?
        .rows_affected();
        sqlx::query(
            "UPDATE invitations SET customer_id = NULL
             WHERE customer_id = ?1 OR order_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(customer)
        .bind(serde_json::to_string(&orders).unwrap_or_else(|_| "[]".into()))
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        if let Some(c) = customer {
            report.snapshots_deleted += sqlx::query(
                "DELETE FROM snapshots WHERE kind IN ('customer', 'customer-orders') AND id = ?",
            )
            .bind(c)
            .execute(&mut *tx)
            .await
            .map_err(&err)?
            .rows_affected();
        }
        // The orders' own state, their shipments (the shipment's data names its order) and
        // the human order numbers that point at them.
        report.snapshots_deleted += sqlx::query(
            "DELETE FROM snapshots WHERE
                (kind IN ('order', 'order-shipments') AND id IN (SELECT value FROM json_each(?1)))
             OR (kind = 'shipment' AND json_valid(data)
                 AND json_extract(data, '$.order_id') IN (SELECT value FROM json_each(?1)))
             OR (kind = 'order-number' AND json_valid(data) AND json_type(data) = 'text'
                 AND json_extract(data, '$') IN (SELECT value FROM json_each(?1)))",
        )
        .bind(serde_json::to_string(&orders).unwrap_or_else(|_| "[]".into()))
        .execute(&mut *tx)
        .await
        .map_err(&err)?
        .rows_affected();
        if let Some(c) = customer {
            crate::retention::redact(&mut tx, shop, Some(c))
                .await
                .map_err(&err)?;
        }
        tx.commit().await.map_err(&err)?;
        self.writer.forget(&inbox_gone);
        Ok(report)
    }

    async fn redact_shop(&self, shop: &ShopId) -> Result<RedactionReport, Error> {
        let _w = self.writing().await;
        let err = db("redact a shop");
        let s = shop.as_str();
        let mut report = RedactionReport::default();
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let inbox_gone: Vec<crate::writer::Deleted> = sqlx::query_as(
            "DELETE FROM inbox WHERE shop = ? RETURNING id, source, dedupe_key, content_key",
        )
        .bind(s)
        .fetch_all(&mut *tx)
        .await
        .map_err(&err)?;
        report.inbox_deleted = inbox_gone.len() as u64;
        report.outbox_deleted = sqlx::query("DELETE FROM outbox WHERE shop = ?")
            .bind(s)
            .execute(&mut *tx)
            .await
            .map_err(&err)?
            .rows_affected();
        sqlx::query("DELETE FROM ledger WHERE shop = ?")
            .bind(s)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        report.responses_anonymised = sqlx::query("DELETE FROM responses WHERE invitation_id IN (SELECT id FROM invitations WHERE shop = ?)")
            .bind(s)
            .execute(&mut *tx)
            .await
            .map_err(&err)?
            .rows_affected();
        report.comments_deleted = sqlx::query("DELETE FROM survey_comments WHERE invitation_id IN (SELECT id FROM invitations WHERE shop = ?)")
            .bind(s)
            .execute(&mut *tx)
            .await
            .map_err(&err)?
            .rows_affected();
        sqlx::query("DELETE FROM invitations WHERE shop = ?")
            .bind(s)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        report.snapshots_deleted = sqlx::query("DELETE FROM snapshots WHERE shop = ?")
            .bind(s)
            .execute(&mut *tx)
            .await
            .map_err(&err)?
            .rows_affected();
        crate::retention::redact(&mut tx, Some(s), None)
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        self.writer.forget(&inbox_gone);
        Ok(report)
    }

    async fn expire(&self, before: DateTime<Utc>) -> Result<RedactionReport, Error> {
        let _w = self.writing().await;
        let err = db("expire old data");
        let b = micros(before);
        let mut report = RedactionReport::default();
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let mut run = async |sql: &str| -> Result<u64, Error> {
            Ok(sqlx::query(sql)
                .bind(b)
                .execute(&mut *tx)
                .await
                .map_err(&err)?
                .rows_affected())
        };
        report.comments_deleted = run("DELETE FROM survey_comments WHERE at < ?1").await?;
        report.responses_anonymised = run("UPDATE responses SET customer_id = NULL, comment = NULL
             WHERE answered_at < ?1 AND (customer_id IS NOT NULL OR comment IS NOT NULL)")
        .await?;
        report.invitations_anonymised = run(
            "UPDATE invitations SET customer_id = NULL WHERE sent_at < ?1 AND customer_id IS NOT NULL",
        )
        .await?;
        run("UPDATE ledger SET customer_id = NULL
             WHERE customer_id IS NOT NULL
               AND (at < ?1 OR key IN (SELECT key FROM outbox WHERE created_at < ?1
                     AND status IN ('sent', 'skipped', 'dead', 'uncertain', 'abandoned')))")
        .await?;
        report.outbox_deleted = run(
            "DELETE FROM outbox WHERE created_at < ?1 AND status IN ('sent', 'skipped', 'dead', 'uncertain', 'abandoned')",
        )
        .await?;
        report.snapshots_deleted = run(&format!(
            "DELETE FROM snapshots WHERE version < ?1 AND kind <> '{}'",
            aftercare::flows::feedback::FACTS_SNAPSHOT
        ))
        .await?;
        // Retention facts of customers with no order within the whole period: their orders,
        // then their row (the interval histogram holds no ids and stays).
        run("DELETE FROM retention_orders AS o
             WHERE (o.customer_id IS NULL AND o.created_at < ?1)
                OR EXISTS (SELECT 1 FROM retention_customers c
                           WHERE c.shop = o.shop AND c.customer_id = o.customer_id
                             AND c.last_order_at < ?1)")
        .await?;
        run("DELETE FROM retention_customers WHERE last_order_at < ?1").await?;
        let inbox_gone: Vec<crate::writer::Deleted> = sqlx::query_as(
            "DELETE FROM inbox WHERE received_at < ?1 AND status IN ('done', 'dead')
             RETURNING id, source, dedupe_key, content_key",
        )
        .bind(b)
        .fetch_all(&mut *tx)
        .await
        .map_err(&err)?;
        report.inbox_deleted = inbox_gone.len() as u64;
        tx.commit().await.map_err(&err)?;
        self.writer.forget(&inbox_gone);
        Ok(report)
    }
}

#[async_trait]
impl SnapshotStore for SqliteStore {
    async fn put_if_newer(&self, snap: &Snapshot) -> Result<bool, Error> {
        // Shares a transaction with the writes asked for at the same time (`flow_writer.rs`).
        match self
            .flow_writer
            .write(&self.pool, crate::flow_writer::Op::Snapshot(snap.clone()))
            .await?
        {
            crate::flow_writer::Done::Stored(stored) => Ok(stored),
            other => Err(Error::storage(
                "store a snapshot",
                format!("the flow writer answered {other:?}"),
            )),
        }
    }

    async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
        let Some(row) = sqlx::query(
            "SELECT kind, id, shop, version, data FROM snapshots WHERE kind = ? AND id = ?",
        )
        .bind(kind)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("read a snapshot"))?
        else {
            return Ok(None);
        };
        snapshot_from_row(&row).map(Some)
    }
}

/// A snapshot row (`kind`, `id`, `shop`, `version`, `data` as text).
pub(crate) fn snapshot_from_row(row: &SqliteRow) -> Result<Snapshot, Error> {
    let data: String = get(row, "data")?;
    Ok(Snapshot::new(
        get::<String>(row, "kind")?,
        get::<Option<String>>(row, "shop")?.map(ShopId::new),
        get::<String>(row, "id")?,
        from_micros(get(row, "version")?)?,
        serde_json::from_str(&data).map_err(|e| Error::decode("stored snapshot", e))?,
    ))
}

/// A snapshot's upsert (kept only when not older than the stored one), inside the caller's
/// transaction; whether it was stored.
pub(crate) async fn put_snapshot_in(
    conn: &mut sqlx::SqliteConnection,
    snap: &Snapshot,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO snapshots (kind, id, shop, version, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET shop = excluded.shop, version = excluded.version, data = excluded.data
         WHERE excluded.version >= snapshots.version",
    )
    .bind(&snap.kind)
    .bind(&snap.id)
    .bind(snap.shop.as_ref().map(ShopId::as_str))
    .bind(micros(snap.version))
    .bind(snap.data.to_string())
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A ledger row, inside the caller's transaction.
pub(crate) async fn record_in(
    conn: &mut sqlx::SqliteConnection,
    e: &LedgerEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(micros(e.at))
        .bind(&e.key)
        .bind(e.shop.as_ref().map(ShopId::as_str))
        .bind(e.order_id.as_ref().map(OrderId::as_str))
        .bind(e.customer_id.as_ref().map(CustomerId::as_str))
        .bind(e.channel.map(ChannelKind::as_str))
        .bind(e.decision.as_str())
        .bind(&e.reason)
        .execute(conn)
        .await?;
    Ok(())
}

/// One message's insert (or duplicate look-up) and ledger row, inside the caller's
/// transaction.
pub(crate) async fn enqueue_in(
    conn: &mut sqlx::SqliteConnection,
    msg: &NewOutboxMessage,
    now: DateTime<Utc>,
) -> Result<Enqueue, sqlx::Error> {
    let m = &msg.message;
    let json = serde_json::to_string(m).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO outbox (key, shop, order_id, customer_id, channel, recipient_hash, message, due_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id",
    )
    .bind(&msg.key)
    .bind(m.shop.as_ref().map(ShopId::as_str))
    .bind(m.order_id.as_ref().map(OrderId::as_str))
    .bind(m.customer_id.as_ref().map(CustomerId::as_str))
    .bind(m.channel.as_str())
    .bind(address_hash(&m.to))
    .bind(json)
    .bind(micros(msg.due_at))
    .bind(micros(now))
    .fetch_optional(&mut *conn)
    .await
    ?;
    let (result, decision, reason) = match inserted {
        Some(id) => (Enqueue::New(id), Decision::Enqueued, msg.reason.clone()),
        None => {
            let id: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE key = ?")
                .bind(&msg.key)
                .fetch_one(&mut *conn)
                .await?;
            (
                Enqueue::Duplicate(id),
                Decision::Skipped,
                format!(
                    "already queued under the same key; not sent twice ({})",
                    msg.reason
                ),
            )
        }
    };
    ledger_from_outbox(&mut *conn, now, decision.as_str(), &reason, result.id()).await?;
    Ok(result)
}
