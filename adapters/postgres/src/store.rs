//! The storage traits on PostgreSQL.
//!
//! One file past 800 lines: it is the one place each trait's SQL lives, trait by trait in the
//! order of `aftercare::store`; the writer and the schema are in their own modules.

use std::collections::BTreeMap;
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
use sqlx::postgres::PgRow;

use crate::PostgresStore;

mod enqueue;
mod work;

/// `now + lease`, saturating at the latest time chrono (and `timestamptz`) can hold.
fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(lease)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn db(op: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |e| Error::storage(op, e)
}

fn get<'r, T>(row: &'r PgRow, col: &str) -> Result<T, Error>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(col)
        .map_err(|e| Error::storage("read a stored row", e))
}

use aftercare::store::rules::stored as parse_or;

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

const INBOX_COLS: &str = "inbox.id, inbox.source, inbox.dedupe_key, inbox.topic, inbox.shop, inbox.occurred_at, \
     inbox.meta::text AS meta, inbox.body, inbox.received_at, inbox.status, inbox.attempts, inbox.next_attempt_at, \
     inbox.last_error";

fn inbox_row(row: &PgRow) -> Result<InboxEntry, Error> {
    let meta: String = get(row, "meta")?;
    let status: String = get(row, "status")?;
    let mut e = InboxEntry::new(
        get(row, "id")?,
        get::<String>(row, "source")?,
        get::<String>(row, "dedupe_key")?,
        get(row, "body")?,
        get(row, "received_at")?,
    );
    e.topic = get(row, "topic")?;
    e.shop = get(row, "shop")?;
    e.occurred_at = get(row, "occurred_at")?;
    e.meta = serde_json::from_str::<BTreeMap<String, String>>(&meta)
        .map_err(|e| Error::decode("stored inbox meta", e))?;
    e.status = parse_or("inbox status", InboxStatus::parse(&status), &status)?;
    e.attempts = count(get(row, "attempts")?);
    e.next_attempt_at = get(row, "next_attempt_at")?;
    e.last_error = get(row, "last_error")?;
    Ok(e)
}

const OUTBOX_COLS: &str = "outbox.id, outbox.key, outbox.message::text AS message, outbox.status, outbox.due_at, \
     outbox.attempts, outbox.created_at, outbox.provider_message_id, outbox.accepted_at, outbox.last_error, \
     outbox.recovered";

fn outbox_row(row: &PgRow) -> Result<OutboxEntry, Error> {
    let message: String = get(row, "message")?;
    let status: String = get(row, "status")?;
    let pid: Option<String> = get(row, "provider_message_id")?;
    let accepted: Option<DateTime<Utc>> = get(row, "accepted_at")?;
    let mut e = OutboxEntry::new(
        get(row, "id")?,
        get::<String>(row, "key")?,
        serde_json::from_str::<OutboundMessage>(&message)
            .map_err(|e| Error::decode("stored outbox message", e))?,
        parse_or("outbox status", OutboxStatus::parse(&status), &status)?,
        get(row, "due_at")?,
        count(get(row, "attempts")?),
        get(row, "created_at")?,
    );
    e.receipt = match (pid, accepted) {
        (Some(p), Some(at)) => Some(Receipt::new(p, at)),
        _ => None,
    };
    e.last_error = get(row, "last_error")?;
    Ok(e)
}

const LEDGER_COLS: &str = "at, key, shop, order_id, customer_id, channel, decision, reason";

fn ledger_row(row: &PgRow) -> Result<LedgerEntry, Error> {
    let decision: String = get(row, "decision")?;
    let channel: Option<String> = get(row, "channel")?;
    let mut e = LedgerEntry::new(
        get(row, "at")?,
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

const INVITATION_COLS: &str =
    "id, kind, shop, order_id, customer_id, channel, locale, sent_at, closes_at";

fn invitation_row(row: &PgRow) -> Result<Invitation, Error> {
    let kind: String = get(row, "kind")?;
    let channel: String = get(row, "channel")?;
    let mut i = Invitation::new(
        get::<String>(row, "id")?,
        parse_or("survey kind", SurveyKind::parse(&kind), &kind)?,
        OrderId::new(get::<String>(row, "order_id")?),
        parse_or("channel", ChannelKind::parse(&channel), &channel)?,
        get::<String>(row, "locale")?,
        get(row, "sent_at")?,
        get(row, "closes_at")?,
    );
    i.shop = get::<Option<String>>(row, "shop")?.map(ShopId::new);
    i.customer_id = get::<Option<String>>(row, "customer_id")?.map(CustomerId::new);
    Ok(i)
}

const RESPONSE_COLS: &str =
    "invitation_id, kind, order_id, customer_id, score, comment, via, answered_at";

fn response_row(row: &PgRow) -> Result<SurveyResponse, Error> {
    let kind: String = get(row, "kind")?;
    let score: i16 = get(row, "score")?;
    let mut r = SurveyResponse::new(
        get::<String>(row, "invitation_id")?,
        parse_or("survey kind", SurveyKind::parse(&kind), &kind)?,
        OrderId::new(get::<String>(row, "order_id")?),
        u8::try_from(score).map_err(|e| Error::decode("stored score", e))?,
        get::<String>(row, "via")?,
        get(row, "answered_at")?,
    );
    r.customer_id = get::<Option<String>>(row, "customer_id")?.map(CustomerId::new);
    r.comment = get(row, "comment")?;
    Ok(r)
}

#[async_trait]
impl Inbox for PostgresStore {
    async fn insert(&self, entry: NewInboxEntry) -> Result<InboxInsert, Error> {
        self.writer.insert(&self.pool, entry).await
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<InboxEntry>, Error> {
        let rows = sqlx::query(&format!(
            "WITH due AS MATERIALIZED (
                 SELECT id FROM inbox WHERE status = 'pending' AND next_attempt_at <= $2
                 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
             UPDATE inbox SET attempts = inbox.attempts + 1, next_attempt_at = $1
             FROM due WHERE inbox.id = due.id
             RETURNING {INBOX_COLS}"
        ))
        .bind(lease_end(now, lease))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("claim from the inbox"))?;
        let mut out = rows.iter().map(inbox_row).collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|e| e.id);
        Ok(out)
    }

    async fn complete(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        sqlx::query(
            "UPDATE inbox SET status = 'done', finished_at = $1, last_error = NULL WHERE id = $2",
        )
        .bind(now)
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
        sqlx::query(
            "UPDATE inbox SET status = 'done', finished_at = $1, last_error = NULL WHERE id = ANY($2)",
        )
        .bind(now)
        .bind(ids)
        .execute(&self.pool)
        .await
        .map_err(db("complete inbox entries"))?;
        Ok(())
    }

    async fn retry_at(&self, id: i64, at: DateTime<Utc>, error: &str) -> Result<(), Error> {
        sqlx::query("UPDATE inbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3 AND status = 'pending'")
            .bind(at)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("reschedule an inbox entry"))?;
        Ok(())
    }

    async fn dead_letter(&self, id: i64, reason: &str) -> Result<(), Error> {
        sqlx::query("UPDATE inbox SET status = 'dead', last_error = $1 WHERE id = $2")
            .bind(reason)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("dead-letter an inbox entry"))?;
        Ok(())
    }

    async fn inbox_entry(&self, id: i64) -> Result<Option<InboxEntry>, Error> {
        sqlx::query(&format!("SELECT {INBOX_COLS} FROM inbox WHERE id = $1"))
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
            "SELECT {INBOX_COLS} FROM inbox WHERE status = 'dead' ORDER BY id DESC LIMIT $1"
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
        let r = sqlx::query("UPDATE inbox SET status = 'pending', next_attempt_at = $1 WHERE id = $2 AND status = 'dead'")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("requeue a dead letter"))?;
        Ok(r.rows_affected() == 1)
    }
}

/// An outbox transition and its ledger row in one statement: the `UPDATE` (`$1`.. as
/// given by `set`, then `id`, `attempt`) only matches a message still `sending` under the
/// named claim, and the ledger row is written from what it returns, so both happen or
/// neither. `now`, `decision` and `reason` follow.
fn transition_sql(set: &str, first_free: usize) -> String {
    let n = first_free;
    format!(
        "WITH moved AS (
             UPDATE outbox SET {set}
             WHERE id = ${n} AND status = 'sending' AND attempts = ${}
             RETURNING key, shop, order_id, customer_id, channel)
         INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
         SELECT ${}, key, shop, order_id, customer_id, channel, ${}, ${} FROM moved",
        n + 1,
        n + 2,
        n + 3,
        n + 4
    )
}

#[async_trait]
impl Outbox for PostgresStore {
    async fn enqueue(&self, msg: NewOutboxMessage, now: DateTime<Utc>) -> Result<Enqueue, Error> {
        let err = db("enqueue a message");
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let result = enqueue_in(&mut tx, &msg, now).await.map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(result)
    }

    async fn enqueue_many(
        &self,
        msgs: Vec<NewOutboxMessage>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueue>, Error> {
        let err = db("enqueue messages");
        let mut out = Vec::with_capacity(msgs.len());
        // Transactions of up to 512 messages: one commit each, and the write lock is given
        // up between them so webhooks are not held up behind a large batch.
        // Three statements per transaction (`store/enqueue.rs`).
        for chunk in msgs.chunks(512) {
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
        // Due messages and expired claims are read by two scans of their partial indexes
        // that stop at the limit; one `OR` made PostgreSQL read and sort every due row on
        // each claim (9 ms with 20,000 queued, 0.4 ms this way, whatever the backlog).
        // Rows the first two scans lock beyond the final limit are unlocked at commit.
        let rows = sqlx::query(&format!(
            "WITH p AS MATERIALIZED (
                 SELECT id, due_at FROM outbox WHERE status = 'pending' AND due_at <= $2
                 ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),
             s AS MATERIALIZED (
                 SELECT id, due_at FROM outbox WHERE status = 'sending' AND claimed_until <= $2
                 ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),
             due AS MATERIALIZED (
                 SELECT id FROM (SELECT id, due_at FROM p UNION ALL SELECT id, due_at FROM s) x
                 ORDER BY due_at, id LIMIT $3)
             UPDATE outbox SET status = 'sending', attempts = outbox.attempts + 1, claimed_until = $1,
                    recovered = (outbox.status = 'sending')
             FROM due WHERE outbox.id = due.id
             RETURNING {OUTBOX_COLS}"
        ))
        .bind(lease_end(now, lease))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("claim due messages"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let entry = outbox_row(row)?;
            let attempt = entry.attempts;
            out.push(Claimed::new(entry, attempt, get(row, "recovered")?));
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
        let r = sqlx::query(&transition_sql(
            "status = 'sent', provider_message_id = $1, accepted_at = $2, claimed_until = NULL, last_error = NULL",
            3,
        ))
        .bind(&receipt.provider_message_id)
        .bind(receipt.accepted_at)
        .bind(id)
        .bind(i64::from(attempt))
        .bind(now)
        .bind(Decision::Sent.as_str())
        .bind(reason)
        .execute(&self.pool)
        .await
        .map_err(db("record a sent message"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn mark_sent_many(
        &self,
        sends: &[SentRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, Error> {
        if sends.is_empty() {
            return Ok(Vec::new());
        }
        // A message named twice is recorded once, by its first record (as `mark_sent` one
        // after the other would answer).
        let mut seen = std::collections::HashSet::with_capacity(sends.len());
        let firsts: Vec<bool> = sends.iter().map(|s| seen.insert(s.id)).collect();
        let batch: Vec<&SentRecord> = sends
            .iter()
            .zip(&firsts)
            .filter(|(_, f)| **f)
            .map(|(s, _)| s)
            .collect();
        // One statement (one round trip, one transaction): every state change and the
        // ledger rows of those made, in the batch's order.
        let updated: Vec<i64> = sqlx::query_scalar(
            "WITH s AS (
                 SELECT * FROM unnest($1::BIGINT[], $2::INTEGER[], $3::TEXT[], $4::TIMESTAMPTZ[], $5::TEXT[])
                     WITH ORDINALITY AS s(id, attempt, pid, acc, reason, n)),
             moved AS (
                 UPDATE outbox o SET status = 'sent', provider_message_id = s.pid, accepted_at = s.acc,
                        claimed_until = NULL, last_error = NULL
                 FROM s WHERE o.id = s.id AND o.status = 'sending' AND o.attempts = s.attempt
                 RETURNING o.id, o.key, o.shop, o.order_id, o.customer_id, o.channel, s.reason, s.n),
             ledgered AS (
                 INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
                 SELECT $6, key, shop, order_id, customer_id, channel, $7, reason FROM moved ORDER BY n)
             SELECT id FROM moved",
        )
        .bind(batch.iter().map(|s| s.id).collect::<Vec<i64>>())
        .bind(
            batch
                .iter()
                .map(|s| i32::try_from(s.attempt).unwrap_or(i32::MAX))
                .collect::<Vec<i32>>(),
        )
        .bind(
            batch
                .iter()
                .map(|s| s.receipt.provider_message_id.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            batch
                .iter()
                .map(|s| s.receipt.accepted_at)
                .collect::<Vec<DateTime<Utc>>>(),
        )
        .bind(batch.iter().map(|s| s.reason.as_str()).collect::<Vec<&str>>())
        .bind(now)
        .bind(Decision::Sent.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db("record sent messages"))?;
        let updated: std::collections::HashSet<i64> = updated.into_iter().collect();
        Ok(sends
            .iter()
            .zip(&firsts)
            .map(|(s, first)| *first && updated.contains(&s.id))
            .collect())
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
        let r = sqlx::query(&transition_sql(
            "status = 'pending', due_at = $1, claimed_until = NULL, last_error = $2",
            3,
        ))
        .bind(due_at)
        .bind(reason)
        .bind(id)
        .bind(i64::from(attempt))
        .bind(now)
        .bind(decision.as_str())
        .bind(reason)
        .execute(&self.pool)
        .await
        .map_err(db("reschedule a message"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn finish(
        &self,
        id: i64,
        attempt: u32,
        status: OutboxStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let decision = aftercare::store::rules::finish_decision(status)?;
        let r = sqlx::query(&transition_sql(
            "status = $1, claimed_until = NULL, last_error = $2",
            3,
        ))
        .bind(status.as_str())
        .bind(reason)
        .bind(id)
        .bind(i64::from(attempt))
        .bind(now)
        .bind(decision.as_str())
        .bind(reason)
        .execute(&self.pool)
        .await
        .map_err(db("finish a message"))?;
        Ok(r.rows_affected() == 1)
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
                     outbox.created_at) AS uncertain_at
                 FROM outbox WHERE outbox.status = 'uncertain') u
             WHERE uncertain_at < $1 ORDER BY uncertain_at, id LIMIT $2"
        ))
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("list uncertain messages"))?;
        rows.iter()
            .map(|row| {
                Ok(UncertainEntry::new(
                    outbox_row(row)?,
                    get(row, "uncertain_at")?,
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
        // As `transition_sql`, guarded by `status = 'uncertain'` instead of a claim: the
        // update and its ledger row happen in one statement, both or neither.
        let sql = |set: &str, first_free: usize| {
            let n = first_free;
            format!(
                "WITH moved AS (
                     UPDATE outbox SET {set}
                     WHERE id = ${n} AND status = 'uncertain'
                     RETURNING key, shop, order_id, customer_id, channel)
                 INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
                 SELECT ${}, key, shop, order_id, customer_id, channel, ${}, ${} FROM moved",
                n + 1,
                n + 2,
                n + 3
            )
        };
        let decision = resolution.decision();
        let statement = match resolution {
            Resolution::Sent(_) => sql(
                "status = 'sent', provider_message_id = $1, accepted_at = $2, last_error = NULL",
                3,
            ),
            Resolution::Resend(_) => sql("status = 'pending', due_at = $1, last_error = $2", 3),
            Resolution::Abandon => sql("status = 'abandoned', last_error = $1", 2),
            other => {
                return Err(Error::Config(format!(
                    "this store does not know the resolution {other:?}"
                )));
            }
        };
        let q = sqlx::query(&statement);
        let q = match resolution {
            Resolution::Sent(receipt) => q
                .bind(&receipt.provider_message_id)
                .bind(receipt.accepted_at),
            Resolution::Resend(due_at) => q.bind(*due_at).bind(reason),
            _ => q.bind(reason),
        };
        let r = q
            .bind(id)
            .bind(now)
            .bind(decision.as_str())
            .bind(reason)
            .execute(&self.pool)
            .await
            .map_err(db("resolve an uncertain message"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, Error> {
        sqlx::query(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read a message"))?
            .as_ref()
            .map(outbox_row)
            .transpose()
    }

    async fn outbox_by_key(&self, key: &str) -> Result<Option<OutboxEntry>, Error> {
        sqlx::query(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE key = $1"))
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
            "SELECT {OUTBOX_COLS} FROM outbox WHERE provider_message_id = $1 ORDER BY id DESC LIMIT 1"
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
        sqlx::query(&format!(
            "SELECT {OUTBOX_COLS} FROM outbox
             WHERE channel = $1 AND recipient_hash = $2 AND status = 'sent' AND starts_with(key, $3)
             ORDER BY accepted_at DESC NULLS LAST, id DESC LIMIT 1"
        ))
        .bind(channel.as_str())
        .bind(address_hash(address))
        .bind(key_prefix)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("find the last message sent to an address"))?
        .as_ref()
        .map(outbox_row)
        .transpose()
    }

    async fn outbox_in(&self, status: OutboxStatus, limit: u32) -> Result<Vec<OutboxEntry>, Error> {
        sqlx::query(&format!(
            "SELECT {OUTBOX_COLS} FROM outbox WHERE status = $1 ORDER BY id LIMIT $2"
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

#[async_trait]
impl Ledger for PostgresStore {
    async fn record(&self, e: LedgerEntry) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.at)
        .bind(&e.key)
        .bind(e.shop.as_ref().map(ShopId::as_str))
        .bind(e.order_id.as_ref().map(OrderId::as_str))
        .bind(e.customer_id.as_ref().map(CustomerId::as_str))
        .bind(e.channel.map(ChannelKind::as_str))
        .bind(e.decision.as_str())
        .bind(&e.reason)
        .execute(&self.pool)
        .await
        .map_err(db("write the ledger"))?;
        Ok(())
    }

    async fn ledger_for_order(&self, order: &OrderId) -> Result<Vec<LedgerEntry>, Error> {
        sqlx::query(&format!(
            "SELECT {LEDGER_COLS} FROM ledger WHERE order_id = $1 ORDER BY at, id"
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
            "SELECT {LEDGER_COLS} FROM ledger WHERE key = $1 ORDER BY at, id"
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
impl ConsentStore for PostgresStore {
    async fn set_consent(&self, r: ConsentRecord) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO consent AS c (channel, address_hash, purpose, state, source, at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (channel, address_hash, purpose) DO UPDATE
               SET state = excluded.state, source = excluded.source, at = excluded.at
               WHERE excluded.at >= c.at",
        )
        .bind(r.channel.as_str())
        .bind(&r.address_hash)
        .bind(r.purpose.map_or("*", Purpose::as_str))
        .bind(r.state.as_str())
        .bind(&r.source)
        .bind(r.at)
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
            "SELECT address_hash, purpose, state, source, at FROM consent
             WHERE channel = $1 AND address_hash = $2 AND purpose IN ($3, '*')
             ORDER BY at DESC, (purpose = '*') ASC LIMIT 1",
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
pub(crate) fn consent_from_row(row: &PgRow, channel: ChannelKind) -> Result<ConsentRecord, Error> {
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
        get(row, "at")?,
    );
    rec.address_hash = get(row, "address_hash")?;
    Ok(rec)
}

#[async_trait]
impl SurveyStore for PostgresStore {
    async fn save_invitation(&self, i: &Invitation) -> Result<bool, Error> {
        let r = sqlx::query(
            "INSERT INTO invitations (id, kind, shop, order_id, customer_id, channel, locale, sent_at, closes_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&i.id)
        .bind(i.kind.as_str())
        .bind(i.shop.as_ref().map(ShopId::as_str))
        .bind(i.order_id.as_str())
        .bind(i.customer_id.as_ref().map(CustomerId::as_str))
        .bind(i.channel.as_str())
        .bind(&i.locale)
        .bind(i.sent_at)
        .bind(i.closes_at)
        .execute(&self.pool)
        .await
        .map_err(db("save an invitation"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, Error> {
        sqlx::query(&format!(
            "SELECT {INVITATION_COLS} FROM invitations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("read an invitation"))?
        .as_ref()
        .map(invitation_row)
        .transpose()
    }

    async fn record_response(&self, r: &SurveyResponse) -> Result<bool, Error> {
        let res = sqlx::query(
            "INSERT INTO responses (invitation_id, kind, order_id, customer_id, score, comment, via, answered_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (invitation_id) DO NOTHING",
        )
        .bind(&r.invitation_id)
        .bind(r.kind.as_str())
        .bind(r.order_id.as_str())
        .bind(r.customer_id.as_ref().map(CustomerId::as_str))
        .bind(i16::from(r.score))
        .bind(&r.comment)
        .bind(&r.via)
        .bind(r.answered_at)
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
        sqlx::query(&format!(
            "SELECT {INVITATION_COLS} FROM invitations WHERE customer_id = $1 AND sent_at >= $2
             ORDER BY sent_at DESC, id"
        ))
        .bind(customer.as_str())
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db("list a customer's invitations"))?
        .iter()
        .map(invitation_row)
        .collect()
    }

    async fn response(&self, invitation_id: &str) -> Result<Option<SurveyResponse>, Error> {
        sqlx::query(&format!(
            "SELECT {RESPONSE_COLS} FROM responses WHERE invitation_id = $1"
        ))
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
        sqlx::query(&format!(
            "SELECT {RESPONSE_COLS} FROM responses WHERE answered_at >= $1 AND answered_at < $2
             ORDER BY answered_at, invitation_id"
        ))
        .bind(from)
        .bind(to)
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
        sqlx::query(
            "INSERT INTO survey_comments (invitation_id, at, text) VALUES ($1, $2, $3)
             ON CONFLICT (invitation_id, at, text) DO NOTHING",
        )
        .bind(invitation_id)
        .bind(at)
        .bind(text)
        .execute(&self.pool)
        .await
        .map_err(db("keep a survey comment"))?;
        Ok(())
    }

    async fn comments(&self, invitation_id: &str) -> Result<Vec<SurveyComment>, Error> {
        let rows = sqlx::query(
            "SELECT at, text FROM survey_comments WHERE invitation_id = $1 ORDER BY at, id",
        )
        .bind(invitation_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("read survey comments"))?;
        rows.iter()
            .map(|row| {
                Ok(SurveyComment::new(
                    get::<DateTime<Utc>>(row, "at")?,
                    get::<String>(row, "text")?,
                ))
            })
            .collect()
    }
}

#[async_trait]
impl Redactor for PostgresStore {
    async fn redact_customer(&self, req: &CustomerRedaction) -> Result<RedactionReport, Error> {
        let err = db("redact a customer");
        let shop = req.shop.as_ref().map(ShopId::as_str);
        let customer = req.customer_id.as_ref().map(CustomerId::as_str);
        let mut report = RedactionReport::default();
        let mut tx = self.pool.begin().await.map_err(&err)?;
        for addr in req
            .addresses
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
        {
            let r = sqlx::query(
                "DELETE FROM inbox WHERE ($1::text IS NULL OR shop = $1 OR shop IS NULL) AND position($2::bytea IN body) > 0",
            )
            .bind(shop)
            .bind(addr.as_bytes())
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            report.inbox_deleted += r.rows_affected();
            let h = address_hash(addr);
            let r = sqlx::query("DELETE FROM outbox WHERE recipient_hash = $1")
                .bind(&h)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            report.outbox_deleted += r.rows_affected();
            let r =
                sqlx::query("DELETE FROM consent WHERE address_hash = $1 AND state = 'granted'")
                    .bind(&h)
                    .execute(&mut *tx)
                    .await
                    .map_err(&err)?;
            report.consents_deleted += r.rows_affected();
        }
        if let Some(c) = customer {
            let r = sqlx::query(
                "DELETE FROM outbox WHERE customer_id = $1 AND ($2::text IS NULL OR shop = $2 OR shop IS NULL)",
            )
            .bind(c)
            .bind(shop)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            report.outbox_deleted += r.rows_affected();
            sqlx::query(
                "UPDATE ledger SET customer_id = NULL
                 WHERE customer_id = $1 AND ($2::text IS NULL OR shop = $2 OR shop IS NULL)",
            )
            .bind(c)
            .bind(shop)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        }
        let mut orders: Vec<String> = req.orders.iter().map(|o| o.as_str().to_owned()).collect();
        orders.sort_unstable();
        orders.dedup();
        // Answers: by customer, and by the orders named.
        let r = sqlx::query(
            "UPDATE responses SET customer_id = NULL, comment = NULL
             WHERE (customer_id IS NOT NULL OR comment IS NOT NULL)
               AND (customer_id = $1 OR order_id = ANY($2))",
        )
        .bind(customer)
        .bind(&orders)
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        report.responses_anonymised += r.rows_affected();
        report.comments_deleted += sqlx::query(
            "DELETE FROM survey_comments WHERE invitation_id IN (SELECT id FROM invitations
               WHERE customer_id = $1 OR order_id = ANY($2))",
        )
        .bind(customer)
        .bind(&orders)
        .execute(&mut *tx)
        .await
        .map_err(&err)?
        .rows_affected();
        sqlx::query(
            "UPDATE invitations SET customer_id = NULL
             WHERE customer_id IS NOT NULL AND (customer_id = $1 OR order_id = ANY($2))",
        )
        .bind(customer)
        .bind(&orders)
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        if let Some(c) = customer {
            report.snapshots_deleted += sqlx::query(
                "DELETE FROM snapshots WHERE kind IN ('customer', 'customer-orders') AND id = $1",
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
                (kind IN ('order', 'order-shipments') AND id = ANY($1))
             OR (kind = 'shipment' AND data->>'order_id' = ANY($1))
             OR (kind = 'order-number' AND jsonb_typeof(data) = 'string' AND data #>> '{}' = ANY($1))",
        )
        .bind(&orders)
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
        Ok(report)
    }

    async fn redact_shop(&self, shop: &ShopId) -> Result<RedactionReport, Error> {
        let err = db("redact a shop");
        let s = shop.as_str();
        let mut report = RedactionReport::default();
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let mut run = async |sql: &str| -> Result<u64, Error> {
            Ok(sqlx::query(sql)
                .bind(s)
                .execute(&mut *tx)
                .await
                .map_err(&err)?
                .rows_affected())
        };
        report.inbox_deleted = run("DELETE FROM inbox WHERE shop = $1").await?;
        report.outbox_deleted = run("DELETE FROM outbox WHERE shop = $1").await?;
        run("DELETE FROM ledger WHERE shop = $1").await?;
        report.responses_anonymised =
            run("DELETE FROM responses WHERE invitation_id IN (SELECT id FROM invitations WHERE shop = $1)").await?;
        report.comments_deleted = run(
            "DELETE FROM survey_comments WHERE invitation_id IN (SELECT id FROM invitations WHERE shop = $1)",
        )
        .await?;
        run("DELETE FROM invitations WHERE shop = $1").await?;
        report.snapshots_deleted = run("DELETE FROM snapshots WHERE shop = $1").await?;
        crate::retention::redact(&mut tx, Some(s), None)
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(report)
    }

    async fn expire(&self, before: DateTime<Utc>) -> Result<RedactionReport, Error> {
        let err = db("expire old data");
        let mut report = RedactionReport::default();
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let mut run = async |sql: &str| -> Result<u64, Error> {
            Ok(sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(&err)?
                .rows_affected())
        };
        report.comments_deleted = run("DELETE FROM survey_comments WHERE at < $1").await?;
        report.responses_anonymised = run("UPDATE responses SET customer_id = NULL, comment = NULL
             WHERE answered_at < $1 AND (customer_id IS NOT NULL OR comment IS NOT NULL)")
        .await?;
        report.invitations_anonymised = run(
            "UPDATE invitations SET customer_id = NULL WHERE sent_at < $1 AND customer_id IS NOT NULL",
        )
        .await?;
        run("UPDATE ledger SET customer_id = NULL
             WHERE customer_id IS NOT NULL
               AND (at < $1 OR key IN (SELECT key FROM outbox WHERE created_at < $1
                     AND status IN ('sent', 'skipped', 'dead', 'uncertain', 'abandoned')))")
        .await?;
        report.outbox_deleted = run(
            "DELETE FROM outbox WHERE created_at < $1 AND status IN ('sent', 'skipped', 'dead', 'uncertain', 'abandoned')",
        )
        .await?;
        report.inbox_deleted =
            run("DELETE FROM inbox WHERE received_at < $1 AND status IN ('done', 'dead')").await?;
        report.snapshots_deleted = run(&format!(
            "DELETE FROM snapshots WHERE version < $1 AND kind <> '{}'",
            aftercare::flows::feedback::FACTS_SNAPSHOT
        ))
        .await?;
        // Retention facts of customers with no order within the whole period: their orders,
        // then their row (the interval histogram holds no ids and stays).
        run("DELETE FROM retention_orders AS o
             WHERE (o.customer_id IS NULL AND o.created_at < $1)
                OR EXISTS (SELECT 1 FROM retention_customers c
                           WHERE c.shop = o.shop AND c.customer_id = o.customer_id
                             AND c.last_order_at < $1)")
        .await?;
        run("DELETE FROM retention_customers WHERE last_order_at < $1").await?;
        tx.commit().await.map_err(&err)?;
        Ok(report)
    }
}

#[async_trait]
impl SnapshotStore for PostgresStore {
    async fn put_if_newer(&self, snap: &Snapshot) -> Result<bool, Error> {
        let r = sqlx::query(
            "INSERT INTO snapshots AS s (kind, id, shop, version, data) VALUES ($1, $2, $3, $4, $5::jsonb)
             ON CONFLICT (kind, id) DO UPDATE SET shop = excluded.shop, version = excluded.version, data = excluded.data
             WHERE excluded.version >= s.version",
        )
        .bind(&snap.kind)
        .bind(&snap.id)
        .bind(snap.shop.as_ref().map(ShopId::as_str))
        .bind(snap.version)
        .bind(snap.data.to_string())
        .execute(&self.pool)
        .await
        .map_err(db("store a snapshot"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
        let Some(row) =
            sqlx::query("SELECT kind, id, shop, version, data::text AS data FROM snapshots WHERE kind = $1 AND id = $2")
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
pub(crate) fn snapshot_from_row(row: &PgRow) -> Result<Snapshot, Error> {
    let data: String = get(row, "data")?;
    Ok(Snapshot::new(
        get::<String>(row, "kind")?,
        get::<Option<String>>(row, "shop")?.map(ShopId::new),
        get::<String>(row, "id")?,
        get(row, "version")?,
        serde_json::from_str(&data).map_err(|e| Error::decode("stored snapshot", e))?,
    ))
}

/// One message's insert (or duplicate look-up) and ledger row, inside the caller's
/// transaction.
async fn enqueue_in(
    conn: &mut sqlx::PgConnection,
    msg: &NewOutboxMessage,
    now: DateTime<Utc>,
) -> Result<Enqueue, sqlx::Error> {
    let m = &msg.message;
    let json = serde_json::to_string(m).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO outbox (key, shop, order_id, customer_id, channel, recipient_hash, message, due_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) ON CONFLICT (key) DO NOTHING RETURNING id",
    )
    .bind(&msg.key)
    .bind(m.shop.as_ref().map(ShopId::as_str))
    .bind(m.order_id.as_ref().map(OrderId::as_str))
    .bind(m.customer_id.as_ref().map(CustomerId::as_str))
    .bind(m.channel.as_str())
    .bind(address_hash(&m.to))
    .bind(json)
    .bind(msg.due_at)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    ?;
    let (result, decision, reason) = match inserted {
        Some(id) => (Enqueue::New(id), Decision::Enqueued, msg.reason.clone()),
        None => {
            let id: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE key = $1")
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
    sqlx::query(
        "INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
         SELECT $1, key, shop, order_id, customer_id, channel, $2, $3 FROM outbox WHERE id = $4",
    )
    .bind(now)
    .bind(decision.as_str())
    .bind(reason)
    .bind(result.id())
    .execute(&mut *conn)
    .await?;
    Ok(result)
}
