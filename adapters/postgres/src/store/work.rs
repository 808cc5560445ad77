//! [`WorkStore`]: a processor's batch read ahead in one query and committed in one
//! transaction, rows bound as arrays (`UNNEST`), as `enqueue_many` does
//! (`store/enqueue.rs`): one round trip per statement whatever the batch's size.

use aftercare::Error;
use aftercare::model::{ChannelKind, CustomerId, OrderId, ShopId};
use aftercare::store::{ConsentRecord, Snapshot, address_hash};
use aftercare::work::{ConsentKey, SnapshotKey, Work, WorkStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{consent_from_row, db, enqueue, get, snapshot_from_row};
use crate::PostgresStore;

#[async_trait]
impl WorkStore for PostgresStore {
    async fn snapshots_many(&self, keys: &[SnapshotKey]) -> Result<Vec<Snapshot>, Error> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let (kinds, ids): (Vec<&str>, Vec<&str>) =
            keys.iter().map(|(k, i)| (k.as_str(), i.as_str())).unzip();
        let rows = sqlx::query(
            "SELECT s.kind, s.id, s.shop, s.version, s.data::text AS data
             FROM UNNEST($1::text[], $2::text[]) AS k(kind, id)
             JOIN snapshots AS s ON s.kind = k.kind AND s.id = k.id",
        )
        .bind(kinds)
        .bind(ids)
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
        let channels: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        let hashes: Vec<String> = keys.iter().map(|k| address_hash(&k.1)).collect();
        let purposes: Vec<&str> = keys.iter().map(|k| k.2.as_str()).collect();
        // Per key, the row `consent` picks: the latest of the purpose's and the every-purpose
        // rows, the purpose's own on a tie.
        let rows = sqlx::query(
            "SELECT k.i, c.address_hash, c.purpose, c.state, c.source, c.at
             FROM UNNEST($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k(ch, h, p, i)
             CROSS JOIN LATERAL (
               SELECT address_hash, purpose, state, source, at FROM consent
               WHERE channel = k.ch AND address_hash = k.h AND purpose IN (k.p, '*')
               ORDER BY at DESC, (purpose = '*') ASC LIMIT 1) AS c",
        )
        .bind(channels)
        .bind(hashes)
        .bind(purposes)
        .fetch_all(&self.pool)
        .await
        .map_err(db("read consent ahead"))?;
        let mut out: Vec<Option<ConsentRecord>> = vec![None; keys.len()];
        for row in &rows {
            // WITH ORDINALITY counts from 1.
            let i: i64 = get(row, "i")?;
            let Some(slot) = usize::try_from(i - 1).ok().filter(|&j| j < keys.len()) else {
                continue;
            };
            out[slot] = Some(consent_from_row(row, keys[slot].0)?);
        }
        Ok(out)
    }

    async fn commit(&self, done: &[i64], work: Work, now: DateTime<Utc>) -> Result<(), Error> {
        let err = db("commit a processed batch");
        let latest = work.latest_snapshots();
        let mut tx = self.pool.begin().await.map_err(&err)?;
        if !latest.is_empty() {
            let kinds: Vec<&str> = latest.iter().map(|s| s.kind.as_str()).collect();
            let ids: Vec<&str> = latest.iter().map(|s| s.id.as_str()).collect();
            let shops: Vec<Option<&str>> = latest
                .iter()
                .map(|s| s.shop.as_ref().map(ShopId::as_str))
                .collect();
            let versions: Vec<DateTime<Utc>> = latest.iter().map(|s| s.version).collect();
            let data: Vec<String> = latest.iter().map(|s| s.data.to_string()).collect();
            // Each key once (`Work::latest_snapshots`); never backwards.
            sqlx::query(
                "INSERT INTO snapshots AS s (kind, id, shop, version, data)
                 SELECT k, i, sh, v, d::jsonb
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
                   WITH ORDINALITY AS n(k, i, sh, v, d, ord)
                 ORDER BY ord
                 ON CONFLICT (kind, id) DO UPDATE SET shop = excluded.shop, version = excluded.version, data = excluded.data
                 WHERE excluded.version >= s.version",
            )
            .bind(kinds)
            .bind(ids)
            .bind(shops)
            .bind(versions)
            .bind(data)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        }
        if !work.ledger.is_empty() {
            let l = &work.ledger;
            let at: Vec<DateTime<Utc>> = l.iter().map(|e| e.at).collect();
            let keys: Vec<Option<&str>> = l.iter().map(|e| e.key.as_deref()).collect();
            let shops: Vec<Option<&str>> = l
                .iter()
                .map(|e| e.shop.as_ref().map(ShopId::as_str))
                .collect();
            let orders: Vec<Option<&str>> = l
                .iter()
                .map(|e| e.order_id.as_ref().map(OrderId::as_str))
                .collect();
            let customers: Vec<Option<&str>> = l
                .iter()
                .map(|e| e.customer_id.as_ref().map(CustomerId::as_str))
                .collect();
            let channels: Vec<Option<&str>> = l
                .iter()
                .map(|e| e.channel.map(ChannelKind::as_str))
                .collect();
            let decisions: Vec<&str> = l.iter().map(|e| e.decision.as_str()).collect();
            let reasons: Vec<&str> = l.iter().map(|e| e.reason.as_str()).collect();
            sqlx::query(
                "INSERT INTO ledger (at, key, shop, order_id, customer_id, channel, decision, reason)
                 SELECT a, k, s, o, c, ch, d, r
                 FROM UNNEST($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[],
                             $6::text[], $7::text[], $8::text[])
                   WITH ORDINALITY AS n(a, k, s, o, c, ch, d, r, ord)
                 ORDER BY ord",
            )
            .bind(at)
            .bind(keys)
            .bind(shops)
            .bind(orders)
            .bind(customers)
            .bind(channels)
            .bind(decisions)
            .bind(reasons)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        }
        if !work.messages.is_empty() {
            enqueue::enqueue_chunk(&mut tx, &work.messages, now)
                .await
                .map_err(&err)?;
        }
        if !done.is_empty() {
            sqlx::query(
                "UPDATE inbox SET status = 'done', finished_at = $1, last_error = NULL WHERE id = ANY($2)",
            )
            .bind(now)
            .bind(done)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        }
        tx.commit().await.map_err(&err)?;
        Ok(())
    }
}
