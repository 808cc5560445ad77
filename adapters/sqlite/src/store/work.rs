//! [`WorkStore`]: a processor's batch read ahead in one query and committed in one
//! transaction. Keys to read and short rows (ledger, ids) travel as one JSON array per
//! statement (`json_each`); snapshots, whose data is a JSON document, as bound multi-row
//! `VALUES` (`values.rs` says why).

use aftercare::Error;
use aftercare::model::{ChannelKind, CustomerId, OrderId, ShopId};
use aftercare::store::{ConsentRecord, Snapshot, address_hash};
use aftercare::work::{ConsentKey, SnapshotKey, Work, WorkStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{consent_from_row, db, enqueue, get, micros, snapshot_from_row, values};
use crate::SqliteStore;

#[async_trait]
impl WorkStore for SqliteStore {
    async fn snapshots_many(&self, keys: &[SnapshotKey]) -> Result<Vec<Snapshot>, Error> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(keys).map_err(|e| Error::decode("snapshot keys", e))?;
        // The primary key (kind, id) looked up once per asked key.
        let rows = sqlx::query(
            "SELECT s.kind, s.id, s.shop, s.version, s.data
             FROM json_each(?) AS k CROSS JOIN snapshots AS s
               ON s.kind = k.value ->> 0 AND s.id = k.value ->> 1",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await
        .map_err(db("read snapshots ahead"))?;
        rows.iter().map(snapshot_from_row).collect()
    }

    async fn consents_many(
        &self,
        keys: &[ConsentKey],
    ) -> Result<Vec<Option<ConsentRecord>>, Error> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<serde_json::Value> = keys
            .iter()
            .map(|(channel, address, purpose)| {
                serde_json::json!([channel.as_str(), address_hash(address), purpose.as_str()])
            })
            .collect();
        // Per key, the row `consent` picks: the latest of the purpose's and the every-purpose
        // rows, the purpose's own on a tie (the primary key finds each).
        let rows = sqlx::query(
            "SELECT k.key AS i, c.channel, c.address_hash, c.purpose, c.state, c.source, c.at
             FROM json_each(?) AS k
             JOIN consent AS c ON c.rowid = (
               SELECT rowid FROM consent
               WHERE channel = k.value ->> 0 AND address_hash = k.value ->> 1
                 AND purpose IN (k.value ->> 2, '*')
               ORDER BY at DESC, purpose = '*' ASC LIMIT 1)",
        )
        .bind(serde_json::Value::Array(list).to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db("read consent ahead"))?;
        let mut out: Vec<Option<ConsentRecord>> = vec![None; keys.len()];
        for row in &rows {
            let i: i64 = get(row, "i")?;
            let Some((channel, _, _)) = usize::try_from(i).ok().and_then(|i| keys.get(i)) else {
                continue;
            };
            out[i as usize] = Some(consent_from_row(row, *channel)?);
        }
        Ok(out)
    }

    async fn commit(&self, done: &[i64], work: Work, now: DateTime<Utc>) -> Result<(), Error> {
        let err = db("commit a processed batch");
        let snapshots = work.latest_snapshots();
        let data: Vec<String> = snapshots.iter().map(|s| s.data.to_string()).collect();
        let ledger: Vec<serde_json::Value> = work
            .ledger
            .iter()
            .map(|e| {
                serde_json::json!([
                    micros(e.at),
                    e.key,
                    e.shop.as_ref().map(ShopId::as_str),
                    e.order_id.as_ref().map(OrderId::as_str),
                    e.customer_id.as_ref().map(CustomerId::as_str),
                    e.channel.map(ChannelKind::as_str),
                    e.decision.as_str(),
                    e.reason,
                ])
            })
            .collect();
        let done = serde_json::to_string(done).map_err(|e| Error::decode("inbox ids", e))?;

        let t0 = std::time::Instant::now();
        let _w = self.writing().await;
        let locked = t0.elapsed();
        let mut tx = self.pool.begin().await.map_err(&err)?;
        let begun = t0.elapsed();
        let mut at = 0;
        for n in values::chunks(snapshots.len()) {
            // Never backwards: a stored state newer than the staged one stays.
            let mut sql =
                String::from("INSERT INTO snapshots (kind, id, shop, version, data) VALUES ");
            values::placeholders(&mut sql, n, 5);
            sql.push_str(
                " ON CONFLICT (kind, id) DO UPDATE SET shop = excluded.shop, version = excluded.version, data = excluded.data
                 WHERE excluded.version >= snapshots.version",
            );
            let mut q = sqlx::query(&sql);
            for (s, data) in snapshots[at..at + n].iter().zip(&data[at..at + n]) {
                q = q
                    .bind(&s.kind)
                    .bind(&s.id)
                    .bind(s.shop.as_ref().map(ShopId::as_str))
                    .bind(micros(s.version))
                    .bind(data.as_str());
            }
            q.execute(&mut *tx).await.map_err(&err)?;
            at += n;
        }
        let snapshots_done = t0.elapsed();
        if !ledger.is_empty() {
            sqlx::query(
                "INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
                 SELECT l.value ->> 0, l.value ->> 1, l.value ->> 2, l.value ->> 3, l.value ->> 4,
                        l.value ->> 5, l.value ->> 6, l.value ->> 7
                 FROM json_each(?) AS l ORDER BY l.key",
            )
            .bind(serde_json::Value::Array(ledger).to_string())
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        }
        let ledger_done = t0.elapsed();
        if !work.messages.is_empty() {
            enqueue::enqueue_chunk(&mut tx, &work.messages, now)
                .await
                .map_err(&err)?;
        }
        let messages_done = t0.elapsed();
        sqlx::query(
            "UPDATE inbox SET status = 'done', finished_at = ?, last_error = NULL WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(micros(now))
        .bind(done)
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        let completed = t0.elapsed();
        tx.commit().await.map_err(&err)?;
        tracing::debug!(
            snapshots = snapshots.len(),
            messages = work.messages.len(),
            lock_us = locked.as_micros() as u64,
            begin_us = (begun - locked).as_micros() as u64,
            snapshots_us = (snapshots_done - begun).as_micros() as u64,
            ledger_us = (ledger_done - snapshots_done).as_micros() as u64,
            messages_us = (messages_done - ledger_done).as_micros() as u64,
            complete_us = (completed - messages_done).as_micros() as u64,
            commit_us = (t0.elapsed() - completed).as_micros() as u64,
            "unit of work committed"
        );
        Ok(())
    }
}
