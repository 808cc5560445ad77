//! Group commit for the inbox: webhooks that arrive together are inserted together, in one
//! multi-row statement and one transaction, so a burst costs one WAL commit instead of one
//! per webhook. A lone webhook is written at once (no waiting for company).
//!
//! De-duplication is done against the in-memory [`KeyMap`] (see `keys.rs` for why and for
//! the two rules that keep it exact); a batch normally costs one round trip to the
//! connection's thread, duplicates included.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard};

use aftercare::Error;

use crate::codec::{self, Codec};
use crate::keys::{KeyMap, Mark};
use aftercare::store::{InboxInsert, NewInboxEntry};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

/// The most webhooks written in one statement (10 bound values each).
const MAX_BATCH: usize = 64;

struct Job {
    /// Its body is the stored form, encoded by `codec`.
    entry: NewInboxEntry,
    codec: Codec,
    meta: String,
    reply: oneshot::Sender<Result<InboxInsert, Error>>,
}

/// Hands inserts to a writer task on the current tokio runtime, starting one when needed.
#[derive(Debug)]
pub(crate) struct InboxWriter {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    /// Kept here, not in the task, so a writer restarted on another runtime keeps it.
    keys: Arc<Mutex<KeyMap>>,
    /// The store's turn to write (`SqliteStore::writing`), taken for each batch.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

fn lock(keys: &Mutex<KeyMap>) -> MutexGuard<'_, KeyMap> {
    keys.lock().unwrap_or_else(|e| e.into_inner())
}

impl InboxWriter {
    pub(crate) fn new(write_lock: Arc<tokio::sync::Mutex<()>>) -> Self {
        Self {
            tx: Mutex::default(),
            keys: Arc::default(),
            write_lock,
        }
    }

    fn sender(&self, pool: &SqlitePool) -> mpsc::Sender<Job> {
        let mut guard = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = guard.as_ref()
            && !tx.is_closed()
        {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(run(
            pool.clone(),
            rx,
            self.keys.clone(),
            self.write_lock.clone(),
        ));
        *guard = Some(tx.clone());
        tx
    }

    /// Drops deleted rows, given as (id, source, key), from the key map. Call after the
    /// deletion is committed.
    pub(crate) fn forget(&self, rows: &[(i64, String, String)]) {
        let mut map = lock(&self.keys);
        let hash = map.hasher();
        for (id, source, key) in rows {
            map.forget(hash(source, key), *id);
        }
    }

    /// A writer whose key map files keys by `hasher` (tests make keys collide).
    #[cfg(test)]
    pub(crate) fn with_hasher(
        hasher: fn(&str, &str) -> u64,
        write_lock: Arc<tokio::sync::Mutex<()>>,
    ) -> Self {
        Self {
            tx: Mutex::default(),
            keys: Arc::new(Mutex::new(KeyMap::with_hasher(hasher))),
            write_lock,
        }
    }

    /// Lets the writer task end (and give its connection back) once its queue is empty.
    pub(crate) fn shutdown(&self) {
        *self.tx.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub(crate) async fn insert(
        &self,
        pool: &SqlitePool,
        mut entry: NewInboxEntry,
    ) -> Result<InboxInsert, Error> {
        let meta = serde_json::to_string(&entry.verified.meta)
            .map_err(|e| Error::decode("inbox meta", e))?;
        // Compressed here, in the caller's task, so a burst's bodies are compressed on the
        // callers' threads while the writer commits the previous batch.
        let (stored, codec) = codec::encode(std::mem::take(&mut entry.body));
        entry.body = stored;
        let (reply, rx) = oneshot::channel();
        let mut job = Job {
            entry,
            codec,
            meta,
            reply,
        };
        // A writer whose runtime has gone away is replaced once.
        for _ in 0..2 {
            match self.sender(pool).send(job).await {
                Ok(()) => {
                    return rx.await.map_err(|_| {
                        Error::storage(
                            "insert into the inbox",
                            "the inbox writer stopped before answering",
                        )
                    })?;
                }
                Err(mpsc::error::SendError(j)) => {
                    job = j;
                    *self.tx.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
            }
        }
        Err(Error::storage(
            "insert into the inbox",
            "no inbox writer could be started",
        ))
    }
}

async fn run(
    pool: SqlitePool,
    mut rx: mpsc::Receiver<Job>,
    keys: Arc<Mutex<KeyMap>>,
    write_lock: Arc<tokio::sync::Mutex<()>>,
) {
    // The writer keeps one connection for itself: no pool round trip per batch.
    let mut conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            conn = pool.acquire().await.ok();
        }
        let result = match conn.as_mut() {
            Some(c) => {
                let _turn = write_lock.lock().await;
                write(c, &keys, &batch).await
            }
            None => Err(sqlx::Error::PoolClosed),
        };
        if result.is_err() {
            // A broken connection is not reused.
            conn = None;
        }
        match result {
            Ok(results) => {
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for job in batch {
                    let _ = job
                        .reply
                        .send(Err(Error::storage("insert into the inbox", msg.clone())));
                }
            }
        }
    }
}

/// Rows read per statement while the key map catches up with the database.
const LOAD_CHUNK: i64 = 4096;
/// Rounds one batch may take (each after another writer added rows) before giving up.
const MAX_ROUNDS: usize = 16;

/// What one row of a batch's query says: made by the insert, an existing row read back to
/// check a key, a row another writer added (read to catch up), or the high-water mark.
const MADE: i64 = 1;
const FOUND: i64 = 0;
const ADDED: i64 = 2;
const MARK: i64 = 3;

type Row = (i64, String, String, i64);

/// The statement that reads rows added after `id > ?` (one chunk) and the high-water mark
/// in one snapshot, so the two agree.
const CATCH_UP: &str = "SELECT * FROM (SELECT id, source, dedupe_key, 2 FROM inbox INDEXED BY inbox_ids WHERE id > ? ORDER BY id LIMIT ?)
     UNION ALL SELECT seq, '', '', 3 FROM sqlite_sequence WHERE name = 'inbox'";

async fn write(
    conn: &mut sqlx::SqliteConnection,
    keys: &Mutex<KeyMap>,
    batch: &[Job],
) -> Result<Vec<Result<InboxInsert, Error>>, sqlx::Error> {
    let hash = lock(keys).hasher();
    let hashes: Vec<u64> = batch
        .iter()
        .map(|j| hash(&j.entry.source, &j.entry.verified.dedupe_key))
        .collect();
    let key_of = |i: usize| {
        (
            batch[i].entry.source.as_str(),
            batch[i].entry.verified.dedupe_key.as_str(),
        )
    };
    let mut answers: Vec<Option<Result<InboxInsert, Error>>> = batch.iter().map(|_| None).collect();
    // Rows read back and found to carry another key (whose hash is the same).
    let mut ruled_out: Vec<Vec<i64>> = batch.iter().map(|_| Vec::new()).collect();
    for _ in 0..MAX_ROUNDS {
        let loaded = lock(keys).mark();
        let Some(mark) = loaded else {
            catch_up(conn, keys, i64::MIN).await?;
            continue;
        };
        // Each unanswered webhook is either new (the first of its key in the batch is
        // inserted, the others answered as its duplicates) or may be stored already (its
        // candidate rows are read back to check).
        let mut insert: Vec<usize> = Vec::new();
        let mut same_as: Vec<(usize, usize)> = Vec::new();
        let mut check: Vec<(usize, Vec<i64>)> = Vec::new();
        {
            let map = lock(keys);
            let mut first: HashMap<(&str, &str), usize> = HashMap::new();
            for i in (0..batch.len()).filter(|i| answers[*i].is_none()) {
                let candidates: Vec<i64> = map
                    .candidates(hashes[i])
                    .iter()
                    .filter(|id| !ruled_out[i].contains(id))
                    .copied()
                    .collect();
                if !candidates.is_empty() {
                    check.push((i, candidates));
                    continue;
                }
                match first.entry(key_of(i)) {
                    Entry::Occupied(o) => same_as.push((i, *o.get())),
                    Entry::Vacant(v) => {
                        v.insert(i);
                        insert.push(i);
                    }
                }
            }
        }
        let rows = query(conn, batch, &insert, &check, mark).await?;

        // The map is locked only in this block, never across an await.
        let more_added = {
            let mut made: HashMap<(&str, &str), i64> = HashMap::with_capacity(insert.len());
            let mut found: HashMap<i64, (&str, &str)> = HashMap::new();
            let mut added = 0_i64;
            let mut last_added = i64::MIN;
            let mut new_mark: Mark = None;
            let mut more_added = None;
            let mut map = lock(keys);
            for (id, source, key, kind) in &rows {
                match *kind {
                    MADE => {
                        made.insert((source.as_str(), key.as_str()), *id);
                    }
                    FOUND => {
                        found.insert(*id, (source.as_str(), key.as_str()));
                    }
                    ADDED => {
                        map.add(hash(source, key), *id);
                        added += 1;
                        last_added = *id;
                    }
                    MARK => new_mark = Some(*id),
                    _ => {}
                }
            }
            if !insert.is_empty() {
                if made.is_empty() {
                    // Another writer raised the mark: the rows it added are in the map now (or
                    // partly, if there were many); classify the batch again.
                    if added < LOAD_CHUNK {
                        map.set_mark(new_mark);
                    } else {
                        more_added = Some(last_added);
                    }
                } else {
                    let mut top = mark.unwrap_or(i64::MIN);
                    for &i in &insert {
                        let answer = match made.get(&key_of(i)) {
                            Some(&id) => {
                                map.add(hashes[i], id);
                                top = top.max(id);
                                Ok(InboxInsert::Inserted(id))
                            }
                            // Not expected: the insert either makes every row or none.
                            None => Err(Error::storage(
                                "insert into the inbox",
                                "the insert did not return this webhook's row; answer with an error so the platform delivers it again",
                            )),
                        };
                        answers[i] = Some(answer);
                    }
                    // Under the write lock the mark was `mark`, so the new rows took the next
                    // ids and the highest of them is the new mark.
                    map.set_mark(Some(top));
                    for &(i, first) in &same_as {
                        answers[i] = Some(match &answers[first] {
                            Some(Ok(r)) => Ok(InboxInsert::Duplicate(r.id())),
                            _ => Err(Error::storage(
                                "insert into the inbox",
                                "an identical webhook in the same batch was not stored; answer with an error so the platform delivers it again",
                            )),
                        });
                    }
                }
            }
            for (i, candidates) in &check {
                let key = key_of(*i);
                let hit = candidates
                    .iter()
                    .find(|id| found.get(id).is_some_and(|k| *k == key));
                match hit {
                    Some(&id) => answers[*i] = Some(Ok(InboxInsert::Duplicate(id))),
                    None => {
                        // Every candidate row is gone or carries another key: the gone
                        // ones leave the map, the others are not asked about again, and
                        // the webhook is stored in the next round.
                        for id in candidates {
                            if found.contains_key(id) {
                                ruled_out[*i].push(*id);
                            } else {
                                map.forget(hashes[*i], *id);
                            }
                        }
                    }
                }
            }
            more_added
        };
        if let Some(from) = more_added {
            catch_up(conn, keys, from).await?;
        }
        if answers.iter().all(Option::is_some) {
            break;
        }
    }
    Ok(answers
        .into_iter()
        .map(|a| {
            a.unwrap_or_else(|| {
                Err(Error::storage(
                    "insert into the inbox",
                    "other writers kept adding webhooks to this database while this one was being stored; answer with an error so the platform delivers it again",
                ))
            })
        })
        .collect())
}

/// One round trip: the guarded insert of the new webhooks, the read-back of rows that may
/// carry the other webhooks' keys, and, only if the insert found the mark raised, the rows
/// added since and the new mark.
async fn query(
    conn: &mut sqlx::SqliteConnection,
    batch: &[Job],
    insert: &[usize],
    check: &[(usize, Vec<i64>)],
    mark: Mark,
) -> Result<Vec<Row>, sqlx::Error> {
    let mut sql = String::new();
    if !insert.is_empty() {
        sql.push_str(
            "INSERT INTO inbox (source, dedupe_key, topic, shop, occurred_at, meta, body, body_codec, received_at, next_attempt_at) SELECT * FROM (VALUES ",
        );
        for n in 0..insert.len() {
            if n > 0 {
                sql.push(',');
            }
            sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        }
        // The condition is read after the statement took SQLite's write lock, so no other
        // writer can add a row between the check and the insert.
        sql.push_str(
            ") WHERE (SELECT seq FROM sqlite_sequence WHERE name = 'inbox') IS ? RETURNING id, source, dedupe_key, 1;",
        );
    }
    let candidates: Vec<i64> = check.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    if !candidates.is_empty() {
        sql.push_str("SELECT id, source, dedupe_key, 0 FROM inbox WHERE id IN (");
        for n in 0..candidates.len() {
            if n > 0 {
                sql.push(',');
            }
            sql.push('?');
        }
        sql.push_str(");");
    }
    if !insert.is_empty() {
        // Reads nothing at all (LIMIT 0) when the insert made its rows.
        sql.push_str("SELECT * FROM (");
        sql.push_str(CATCH_UP);
        sql.push_str(") LIMIT CASE WHEN changes() = 0 THEN -1 ELSE 0 END;");
    }
    let mut q = sqlx::query_as::<_, Row>(&sql);
    for &i in insert {
        let j = &batch[i];
        let v = &j.entry.verified;
        let received = j.entry.received_at.timestamp_micros();
        q = q
            .bind(&j.entry.source)
            .bind(&v.dedupe_key)
            .bind(&v.topic)
            .bind(&v.shop)
            .bind(v.occurred_at.map(|t| t.timestamp_micros()))
            .bind(&j.meta)
            .bind(&j.entry.body)
            .bind(j.codec.as_str())
            .bind(received)
            .bind(received);
    }
    if !insert.is_empty() {
        q = q.bind(mark);
    }
    for id in &candidates {
        q = q.bind(id);
    }
    if !insert.is_empty() {
        q = q.bind(mark.unwrap_or(i64::MIN)).bind(LOAD_CHUNK);
    }
    q.fetch_all(&mut *conn).await
}

/// Reads every row added after `from` into the map, then records the mark. A chunk comes
/// back as one JSON array in one row: a row per key through sqlx costs about five times
/// as much (two thread hand-offs and allocations per row).
const LOAD: &str = "SELECT (SELECT json_group_array(json_array(id, source, dedupe_key)) FROM
         (SELECT id, source, dedupe_key FROM inbox INDEXED BY inbox_ids WHERE id > ? ORDER BY id LIMIT ?)),
     (SELECT seq FROM sqlite_sequence WHERE name = 'inbox')";

async fn catch_up(
    conn: &mut sqlx::SqliteConnection,
    keys: &Mutex<KeyMap>,
    mut from: i64,
) -> Result<(), sqlx::Error> {
    let started = std::time::Instant::now();
    let first_load = from == i64::MIN;
    let mut read = 0_usize;
    loop {
        let (chunk, mark): (String, Mark) = sqlx::query_as(LOAD)
            .bind(from)
            .bind(LOAD_CHUNK)
            .fetch_one(&mut *conn)
            .await?;
        let rows: Vec<(i64, String, String)> =
            serde_json::from_str(&chunk).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let mut map = lock(keys);
        let hash = map.hasher();
        for (id, source, key) in &rows {
            map.add(hash(source, key), *id);
            from = from.max(*id);
        }
        read += rows.len();
        if (rows.len() as i64) < LOAD_CHUNK {
            map.set_mark(mark);
            if first_load {
                tracing::info!(
                    keys = read,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "inbox de-duplication keys loaded into memory"
                );
            }
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aftercare::store::{Inbox, InboxInsert, NewInboxEntry};
    use aftercare::webhook::VerifiedWebhook;

    use super::InboxWriter;
    use crate::SqliteStore;

    fn entry(key: &str) -> NewInboxEntry {
        let body = format!(r#"{{"id":"{key}"}}"#).into_bytes();
        NewInboxEntry::new(
            "shopify",
            VerifiedWebhook::new(key),
            body,
            chrono::Utc::now(),
        )
    }

    /// Every key hashes alike: each one found in the map must be checked against its row.
    #[allow(clippy::unwrap_used)]
    #[tokio::test]
    async fn keys_whose_hashes_collide_are_told_apart_by_their_rows() {
        let mut store = SqliteStore::open_temporary().await.unwrap();
        store.writer = Arc::new(InboxWriter::with_hasher(|_, _| 7, store.write_lock.clone()));
        let mut ids = Vec::new();
        for key in ["a", "b", "c"] {
            match store.insert(entry(key)).await.unwrap() {
                InboxInsert::Inserted(id) => ids.push(id),
                other => panic!("{key} is new, got {other:?}"),
            }
        }
        assert_eq!(
            store.insert(entry("b")).await.unwrap(),
            InboxInsert::Duplicate(ids[1])
        );
        // A burst: two known keys, and a new one twice.
        let mut set = tokio::task::JoinSet::new();
        for key in ["a", "c", "d", "d"] {
            let s = store.clone();
            set.spawn(async move { (key, s.insert(entry(key)).await.unwrap()) });
        }
        let answers = set.join_all().await;
        let d: Vec<&InboxInsert> = answers
            .iter()
            .filter(|(k, _)| *k == "d")
            .map(|(_, a)| a)
            .collect();
        assert!(
            matches!(
                d.as_slice(),
                [InboxInsert::Inserted(x), InboxInsert::Duplicate(y)] | [InboxInsert::Duplicate(y), InboxInsert::Inserted(x)] if x == y
            ),
            "{d:?}"
        );
        for (key, answer) in &answers {
            match *key {
                "a" => assert_eq!(*answer, InboxInsert::Duplicate(ids[0])),
                "c" => assert_eq!(*answer, InboxInsert::Duplicate(ids[2])),
                _ => {}
            }
        }
        // A row deleted behind the store's back: its key is stored again, once.
        sqlx::query("DELETE FROM inbox WHERE id = ?")
            .bind(ids[1])
            .execute(store.pool())
            .await
            .unwrap();
        let again = store.insert(entry("b")).await.unwrap();
        assert!(
            matches!(again, InboxInsert::Inserted(id) if id > ids[2]),
            "{again:?}"
        );
        assert_eq!(
            store.insert(entry("b")).await.unwrap(),
            InboxInsert::Duplicate(again.id())
        );
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(rows, 4, "a, b, c and d, once each");
    }

    /// Buckets few enough that distinct keys share hashes all the time.
    fn three_buckets(_: &str, key: &str) -> u64 {
        key.bytes().map(u64::from).sum::<u64>() % 3
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Store `store` receives these webhooks together (one burst).
        Receive { store: usize, keys: Vec<u8> },
        /// The row of a key is deleted through a store (it hears of it).
        Redact { store: usize, key: u8 },
        /// The row of a key is deleted by SQL of its own (no store hears of it).
        DeleteBehind { key: u8 },
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            6 => (0..2usize, proptest::collection::vec(0..8u8, 1..6))
                .prop_map(|(store, keys)| Op::Receive { store, keys }),
            1 => (0..2usize, 0..8u8).prop_map(|(store, key)| Op::Redact { store, key }),
            1 => (0..8u8).prop_map(|key| Op::DeleteBehind { key }),
        ]
    }

    fn keyed(key: u8) -> NewInboxEntry {
        let mut e = entry(&format!("k{key}"));
        e.verified.shop = Some(format!("shop-{key}.myshopify.com"));
        e
    }

    /// Against a model (the key → id of every stored row): two stores on one file whose
    /// keys collide in three hashes, receiving bursts, deleting rows through a store and
    /// behind the stores' backs. Every answer is the model's, and the file agrees.
    #[allow(clippy::unwrap_used)]
    #[test]
    fn two_stores_with_colliding_keys_answer_as_the_model_does() {
        use std::collections::HashMap;

        use aftercare::model::ShopId;
        use aftercare::store::Redactor;
        use proptest::prelude::*;

        let cases = ProptestConfig {
            cases: 128,
            ..ProptestConfig::default()
        };
        proptest!(cases, |(ops in proptest::collection::vec(op(), 1..40))| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("aftercare.db");
                let mut stores = Vec::new();
                for _ in 0..2 {
                    let mut s = SqliteStore::open(&path).await.unwrap();
                    s.writer = Arc::new(InboxWriter::with_hasher(three_buckets, s.write_lock.clone()));
                    stores.push(s);
                }
                let mut model: HashMap<u8, i64> = HashMap::new();
                let mut top = 0_i64;
                for op in ops {
                    match op {
                        Op::Receive { store, keys } => {
                            let mut set = tokio::task::JoinSet::new();
                            for key in keys.iter().copied() {
                                let s = stores[store].clone();
                                set.spawn(async move { (key, s.insert(keyed(key)).await.unwrap()) });
                            }
                            let answers = set.join_all().await;
                            let before = top;
                            let mut distinct = keys.clone();
                            distinct.sort_unstable();
                            distinct.dedup();
                            for key in distinct {
                                let mine: Vec<&InboxInsert> =
                                    answers.iter().filter(|(k, _)| *k == key).map(|(_, a)| a).collect();
                                let inserted = mine.iter().filter(|a| matches!(a, InboxInsert::Inserted(_))).count();
                                match model.get(&key) {
                                    Some(&id) => {
                                        prop_assert!(mine.iter().all(|a| **a == InboxInsert::Duplicate(id)), "k{key}: {mine:?}, stored as {id}");
                                    }
                                    None => {
                                        prop_assert_eq!(inserted, 1, "k{}: {:?}", key, mine);
                                        let id = mine[0].id();
                                        prop_assert!(mine.iter().all(|a| a.id() == id), "k{key}: {mine:?}");
                                        prop_assert!(id > before, "ids are never reused: {id} after {before}");
                                        top = top.max(id);
                                        model.insert(key, id);
                                    }
                                }
                            }
                        }
                        Op::Redact { store, key } => {
                            let shop = ShopId::new(format!("shop-{key}.myshopify.com"));
                            let report = stores[store].redact_shop(&shop).await.unwrap();
                            prop_assert_eq!(report.inbox_deleted, u64::from(model.remove(&key).is_some()));
                        }
                        Op::DeleteBehind { key } => {
                            let gone = sqlx::query("DELETE FROM inbox WHERE dedupe_key = ?")
                                .bind(format!("k{key}"))
                                .execute(stores[0].pool())
                                .await
                                .unwrap()
                                .rows_affected();
                            prop_assert_eq!(gone, u64::from(model.remove(&key).is_some()));
                        }
                    }
                }
                let rows: Vec<(String, i64)> = sqlx::query_as("SELECT dedupe_key, id FROM inbox")
                    .fetch_all(stores[0].pool())
                    .await
                    .unwrap();
                let stored: HashMap<u8, i64> = rows
                    .into_iter()
                    .map(|(k, id)| (k[1..].parse().unwrap(), id))
                    .collect();
                prop_assert_eq!(stored, model);
                Ok(())
            })?;
        });
    }
}
