//! Group commit for the inbox: webhooks that arrive together are inserted together, in one
//! multi-row statement and one transaction, so a burst costs one WAL commit instead of one
//! per webhook. A lone webhook is written at once (no waiting for company).
//!
//! De-duplication, by key and by content (`aftercare::store::Inbox::insert`), is done
//! against the in-memory [`KeyMap`] (see `keys.rs` for why and for the two rules that keep
//! it exact); a batch normally costs one round trip to the connection's thread, duplicates
//! included.
//!
//! One file past 800 lines: the batch logic and the model-based tests that check it (two
//! stores, colliding hashes, deletions, the content window) are read together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aftercare::Error;

use crate::codec::{self, Codec};
use crate::keys::{KeyMap, Mark, content_prefix};
use aftercare::store::{InboxInsert, NewInboxEntry};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

/// The most webhooks written in one statement (11 bound values each).
const MAX_BATCH: usize = 64;

struct Job {
    /// Its body is the stored form, encoded by `codec`.
    entry: NewInboxEntry,
    codec: Codec,
    meta: String,
    /// `entry.content_key()`, taken from the body as received.
    content: [u8; 32],
    /// `entry.content_since()`, in microseconds as `received_at` is stored.
    since: i64,
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

    /// Drops deleted rows, given as (id, source, key, content key), from the key map. Call
    /// after the deletion is committed.
    pub(crate) fn forget(&self, rows: &[Deleted]) {
        let mut map = lock(&self.keys);
        let (hash, fold) = (map.hasher(), map.fold());
        for (id, source, key, content) in rows {
            map.forget(hash(source, key), *id);
            if let Some(p) = content.as_deref().and_then(content_prefix) {
                map.forget(fold(p), *id);
            }
        }
    }

    /// A writer whose key map files keys by `hasher` and content keys by `fold` of their
    /// prefix (tests make them collide).
    #[cfg(test)]
    pub(crate) fn with_hashers(
        hasher: fn(&str, &str) -> u64,
        fold: fn(u64) -> u64,
        write_lock: Arc<tokio::sync::Mutex<()>>,
    ) -> Self {
        Self {
            tx: Mutex::default(),
            keys: Arc::new(Mutex::new(KeyMap::with_hashers(hasher, fold))),
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
        let content = entry.content_key();
        let since = entry.content_since().timestamp_micros();
        // Hashed and compressed here, in the caller's task, so a burst's bodies are hashed and
        // compressed on the callers' threads while the writer commits the previous batch.
        let (stored, codec) = codec::encode(std::mem::take(&mut entry.body));
        entry.body = stored;
        let (reply, rx) = oneshot::channel();
        let mut job = Job {
            entry,
            codec,
            meta,
            content,
            since,
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

/// A deleted inbox row, as the deleting statement returns it: id, source, key, content key.
pub(crate) type Deleted = (i64, String, String, Option<Vec<u8>>);

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

/// id, source, key, content key, `received_at` (both only where needed), what it is.
type Row = (i64, String, String, Option<Vec<u8>>, Option<i64>, i64);

/// The statement that reads rows added after `id > ?` (one chunk) and the high-water mark
/// in one snapshot, so the two agree.
const CATCH_UP: &str = "SELECT * FROM (SELECT id, source, dedupe_key, content_key, NULL, 2 FROM inbox INDEXED BY inbox_ids WHERE id > ? ORDER BY id LIMIT ?)
     UNION ALL SELECT seq, '', '', NULL, NULL, 3 FROM sqlite_sequence WHERE name = 'inbox'";

/// A row read back to check a webhook against it.
struct Found<'a> {
    source: &'a str,
    key: &'a str,
    content: Option<&'a [u8]>,
    received: Option<i64>,
}

async fn write(
    conn: &mut sqlx::SqliteConnection,
    keys: &Mutex<KeyMap>,
    batch: &[Job],
) -> Result<Vec<Result<InboxInsert, Error>>, sqlx::Error> {
    let (hash, fold) = {
        let map = lock(keys);
        (map.hasher(), map.fold())
    };
    let hashes: Vec<u64> = batch
        .iter()
        .map(|j| hash(&j.entry.source, &j.entry.verified.dedupe_key))
        .collect();
    let content_hashes: Vec<u64> = batch
        .iter()
        .map(|j| content_prefix(&j.content).map_or(0, fold))
        .collect();
    let key_of = |i: usize| {
        (
            batch[i].entry.source.as_str(),
            batch[i].entry.verified.dedupe_key.as_str(),
        )
    };
    let mut answers: Vec<Option<Result<InboxInsert, Error>>> = batch.iter().map(|_| None).collect();
    // Rows read back and found to carry neither the key nor the content (in the window).
    let mut ruled_out: Vec<Vec<i64>> = batch.iter().map(|_| Vec::new()).collect();
    for _ in 0..MAX_ROUNDS {
        let loaded = lock(keys).mark();
        let Some(mark) = loaded else {
            catch_up(conn, keys, i64::MIN).await?;
            continue;
        };
        // Each unanswered webhook is either new (the first of its key, or of its content
        // within its window, in the batch is inserted, the others answered as its
        // duplicates) or may be stored already (its candidate rows are read back to check).
        let mut insert: Vec<usize> = Vec::new();
        let mut same_as: Vec<(usize, usize)> = Vec::new();
        let mut check: Vec<(usize, Vec<i64>)> = Vec::new();
        {
            let map = lock(keys);
            let mut first: HashMap<(&str, &str), usize> = HashMap::new();
            let mut first_content: HashMap<&[u8; 32], usize> = HashMap::new();
            for i in (0..batch.len()).filter(|i| answers[*i].is_none()) {
                let mut candidates: Vec<i64> = map
                    .candidates(hashes[i])
                    .iter()
                    .chain(map.candidates(content_hashes[i]))
                    .filter(|id| !ruled_out[i].contains(id))
                    .copied()
                    .collect();
                if !candidates.is_empty() {
                    candidates.sort_unstable();
                    candidates.dedup();
                    check.push((i, candidates));
                    continue;
                }
                if let Some(&f) = first.get(&key_of(i)) {
                    same_as.push((i, f));
                    continue;
                }
                if let Some(&f) = first_content.get(&batch[i].content)
                    && batch[f].entry.received_at.timestamp_micros() >= batch[i].since
                {
                    same_as.push((i, f));
                    continue;
                }
                first.insert(key_of(i), i);
                first_content.insert(&batch[i].content, i);
                insert.push(i);
            }
        }
        let rows = if insert.is_empty() {
            query(conn, batch, &insert, &check, mark).await?
        } else {
            // A row and its body are committed together, or neither (dropped: rolled back).
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let rows = query(&mut tx, batch, &insert, &check, mark).await?;
            if !ids_as_expected(&rows, batch, &insert, mark) {
                return Err(sqlx::Error::Protocol(
                    "the inbox rows did not take the ids their bodies were stored under; nothing was stored".into(),
                ));
            }
            tx.commit().await?;
            rows
        };

        // The map is locked only in this block, never across an await.
        let more_added = {
            let mut made: HashMap<(&str, &str), i64> = HashMap::with_capacity(insert.len());
            let mut found: HashMap<i64, Found<'_>> = HashMap::new();
            let mut added = 0_i64;
            let mut last_added = i64::MIN;
            let mut new_mark: Mark = None;
            let mut more_added = None;
            let mut map = lock(keys);
            for (id, source, key, content, received, kind) in &rows {
                match *kind {
                    MADE => {
                        made.insert((source.as_str(), key.as_str()), *id);
                    }
                    FOUND => {
                        found.insert(
                            *id,
                            Found {
                                source: source.as_str(),
                                key: key.as_str(),
                                content: content.as_deref(),
                                received: *received,
                            },
                        );
                    }
                    ADDED => {
                        map.add(hash(source, key), *id);
                        if let Some(p) = content.as_deref().and_then(content_prefix) {
                            map.add(fold(p), *id);
                        }
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
                                map.add(content_hashes[i], id);
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
                            Some(Ok(r)) => {
                                if key_of(i) != key_of(first) {
                                    replayed(&batch[i], r.id());
                                }
                                Ok(InboxInsert::Duplicate(r.id()))
                            }
                            _ => Err(Error::storage(
                                "insert into the inbox",
                                "an identical webhook in the same batch was not stored; answer with an error so the platform delivers it again",
                            )),
                        });
                    }
                }
            }
            for (i, candidates) in &check {
                let (source, key) = key_of(*i);
                let job = &batch[*i];
                let by_key = candidates.iter().copied().find(|id| {
                    found
                        .get(id)
                        .is_some_and(|f| f.source == source && f.key == key)
                });
                let by_content = || {
                    candidates
                        .iter()
                        .copied()
                        .filter(|id| {
                            found.get(id).is_some_and(|f| {
                                f.content == Some(&job.content[..])
                                    && f.received.is_some_and(|r| r >= job.since)
                            })
                        })
                        .max()
                };
                if let Some(id) = by_key {
                    answers[*i] = Some(Ok(InboxInsert::Duplicate(id)));
                } else if let Some(id) = by_content() {
                    replayed(job, id);
                    answers[*i] = Some(Ok(InboxInsert::Duplicate(id)));
                } else {
                    // Every candidate row is gone or matches neither way: the gone ones
                    // leave the map, the others are not asked about again, and the webhook
                    // is stored in the next round.
                    for id in candidates {
                        if found.contains_key(id) {
                            ruled_out[*i].push(*id);
                        } else {
                            map.forget(hashes[*i], *id);
                            map.forget(content_hashes[*i], *id);
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

/// Logs a webhook answered as a duplicate by its content under another key.
fn replayed(job: &Job, id: i64) {
    tracing::info!(
        source = %job.entry.source,
        dedupe_key = %job.entry.verified.dedupe_key,
        topic = job.entry.verified.topic.as_deref().unwrap_or("-"),
        existing = id,
        "same source, topic and body as a webhook stored within the content window, under another key: a duplicate, not stored"
    );
}

/// The id the first row inserted after `mark` takes: the table is `AUTOINCREMENT`, so ids
/// follow the highest ever given (`sqlite_sequence`), which the insert checks is `mark`.
fn first_id(mark: Mark) -> i64 {
    mark.unwrap_or(0) + 1
}

/// Whether the insert gave the new webhooks the ids their bodies were stored under: the
/// next ones after `mark`, in the batch's order.
fn ids_as_expected(rows: &[Row], batch: &[Job], insert: &[usize], mark: Mark) -> bool {
    let made: HashMap<(&str, &str), i64> = rows
        .iter()
        .filter(|r| r.5 == MADE)
        .map(|r| ((r.1.as_str(), r.2.as_str()), r.0))
        .collect();
    made.is_empty()
        || (made.len() == insert.len()
            && (first_id(mark)..).zip(insert).all(|(id, &i)| {
                let j = &batch[i];
                made.get(&(
                    j.entry.source.as_str(),
                    j.entry.verified.dedupe_key.as_str(),
                )) == Some(&id)
            }))
}

/// Appends `item` `n` times, separated by commas.
fn joined(sql: &mut String, n: usize, item: &str) {
    for i in 0..n {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(item);
    }
}

/// One round trip: the guarded insert of the new webhooks, the read-back of rows that may
/// carry the other webhooks' keys or contents, and, only if the insert found the mark
/// raised, the rows added since and the new mark.
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
            "INSERT INTO inbox (source, dedupe_key, topic, shop, occurred_at, meta, body_codec, received_at, next_attempt_at, content_key) SELECT * FROM (VALUES ",
        );
        joined(&mut sql, insert.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        // The condition is read after the statement took SQLite's write lock, so no other
        // writer can add a row between the check and the insert.
        sql.push_str(
            ") WHERE (SELECT seq FROM sqlite_sequence WHERE name = 'inbox') IS ? RETURNING id, source, dedupe_key, NULL, NULL, 1;",
        );
        // The bodies, under the ids the rows took (the next ones after the mark, in order:
        // `write` checks them before it commits), only if the rows were made.
        sql.push_str("INSERT INTO inbox_bodies (id, body) SELECT * FROM (VALUES ");
        joined(&mut sql, insert.len(), "(?, ?)");
        sql.push_str(") WHERE changes() > 0;");
    }
    let candidates: Vec<i64> = check.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    if !candidates.is_empty() {
        // From the index, which covers these columns: the row itself has them after its body.
        sql.push_str("SELECT id, source, dedupe_key, content_key, received_at, 0 FROM inbox INDEXED BY inbox_ids WHERE id IN (");
        joined(&mut sql, candidates.len(), "?");
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
            .bind(j.codec.as_str())
            .bind(received)
            .bind(received)
            .bind(&j.content[..]);
    }
    if !insert.is_empty() {
        q = q.bind(mark);
        for (id, &i) in (first_id(mark)..).zip(insert) {
            q = q.bind(id).bind(&batch[i].entry.body);
        }
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
/// as much (two thread hand-offs and allocations per row). Of a content key, only the
/// first eight bytes, in hex, are read: all the map files it under.
const LOAD: &str = "SELECT (SELECT json_group_array(json_array(id, source, dedupe_key, hex(substr(content_key, 1, 8)))) FROM
         (SELECT id, source, dedupe_key, content_key FROM inbox INDEXED BY inbox_ids WHERE id > ? ORDER BY id LIMIT ?)),
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
        let rows: Vec<(i64, String, String, String)> =
            serde_json::from_str(&chunk).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let mut map = lock(keys);
        let (hash, fold) = (map.hasher(), map.fold());
        for (id, source, key, prefix) in &rows {
            map.add(hash(source, key), *id);
            // Empty for a row stored before content keys.
            if prefix.len() == 16
                && let Ok(p) = u64::from_str_radix(prefix, 16)
            {
                map.add(fold(p), *id);
            }
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

    fn with_body(key: &str, body_of: &str) -> NewInboxEntry {
        let body = format!(r#"{{"id":"{body_of}"}}"#).into_bytes();
        NewInboxEntry::new(
            "shopify",
            VerifiedWebhook::new(key),
            body,
            chrono::Utc::now(),
        )
    }

    fn entry(key: &str) -> NewInboxEntry {
        with_body(key, key)
    }

    /// Every key and every content key hashes alike: each row found in the map must be
    /// checked against its row.
    #[allow(clippy::unwrap_used)]
    #[tokio::test]
    async fn keys_whose_hashes_collide_are_told_apart_by_their_rows() {
        let mut store = SqliteStore::open_temporary().await.unwrap();
        store.writer = Arc::new(InboxWriter::with_hashers(
            |_, _| 7,
            |_| 7,
            store.write_lock.clone(),
        ));
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
        // b's body under a fresh key: the same content.
        assert_eq!(
            store.insert(with_body("b2", "b")).await.unwrap(),
            InboxInsert::Duplicate(ids[1])
        );
        // A burst: two known keys, a new one twice, a's body under a fresh key, and a new
        // body under two fresh keys.
        let mut set = tokio::task::JoinSet::new();
        for (key, body) in [
            ("a", "a"),
            ("c", "c"),
            ("d", "d"),
            ("d", "d"),
            ("a2", "a"),
            ("e1", "e"),
            ("e2", "e"),
        ] {
            let s = store.clone();
            set.spawn(async move { (key, s.insert(with_body(key, body)).await.unwrap()) });
        }
        let answers = set.join_all().await;
        for pair in [["d", "d"], ["e1", "e2"]] {
            let mine: Vec<&InboxInsert> = answers
                .iter()
                .filter(|(k, _)| pair.contains(k))
                .map(|(_, a)| a)
                .collect();
            assert!(
                matches!(
                    mine.as_slice(),
                    [InboxInsert::Inserted(x), InboxInsert::Duplicate(y)] | [InboxInsert::Duplicate(y), InboxInsert::Inserted(x)] if x == y
                ),
                "{pair:?}: {mine:?}"
            );
        }
        for (key, answer) in &answers {
            match *key {
                "a" | "a2" => assert_eq!(*answer, InboxInsert::Duplicate(ids[0]), "{key}"),
                "c" => assert_eq!(*answer, InboxInsert::Duplicate(ids[2])),
                _ => {}
            }
        }
        // A row deleted behind the store's back: its key, and its content, are stored
        // again, once.
        sqlx::query("DELETE FROM inbox WHERE id = ?")
            .bind(ids[1])
            .execute(store.pool())
            .await
            .unwrap();
        let again = store.insert(with_body("b3", "b")).await.unwrap();
        assert!(
            matches!(again, InboxInsert::Inserted(id) if id > ids[2]),
            "{again:?}"
        );
        assert_eq!(
            store.insert(entry("b")).await.unwrap(),
            InboxInsert::Duplicate(again.id()),
            "b's body is stored (under b3)"
        );
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(rows, 5, "a, b3, c, d and e, once each");
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
        /// The clock moves on this many hours (the content window is one hour).
        Advance { hours: i64 },
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            6 => (0..2usize, proptest::collection::vec(0..8u8, 1..6))
                .prop_map(|(store, keys)| Op::Receive { store, keys }),
            1 => (0..2usize, 0..8u8).prop_map(|(store, key)| Op::Redact { store, key }),
            1 => (0..8u8).prop_map(|key| Op::DeleteBehind { key }),
            1 => (0..3i64).prop_map(|hours| Op::Advance { hours }),
        ]
    }

    fn base() -> chrono::DateTime<chrono::Utc> {
        "2026-03-01T10:00:00Z".parse().unwrap_or_default()
    }

    /// Webhook `key`, whose body is content number `key % contents` (keys sharing it are
    /// the same body under fresh ids), received `hours` after the start.
    fn keyed(key: u8, contents: u8, hours: i64) -> NewInboxEntry {
        let mut v = VerifiedWebhook::new(format!("k{key}"));
        v.shop = Some(format!("shop-{key}.myshopify.com"));
        v.topic = Some("orders/paid".into());
        let body = format!(r#"{{"content":{}}}"#, key % contents).into_bytes();
        NewInboxEntry::new("shopify", v, body, base() + chrono::Duration::hours(hours))
            .with_content_window(std::time::Duration::from_secs(3600))
    }

    /// Against a model (the key → id of every stored row, and the rows of each content
    /// with their arrival): two stores on one file whose keys, and content keys, collide
    /// in three hashes, receiving bursts in which keys may share a body, deleting rows
    /// through a store and behind the stores' backs, while time passes the content window.
    /// Every answer is the model's, and the file agrees.
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
        proptest!(cases, |(contents in 1..=8u8, ops in proptest::collection::vec(op(), 1..40))| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("aftercare.db");
                let mut stores = Vec::new();
                for _ in 0..2 {
                    let mut s = SqliteStore::open(&path).await.unwrap();
                    s.writer = Arc::new(InboxWriter::with_hashers(three_buckets, |p| p % 3, s.write_lock.clone()));
                    stores.push(s);
                }
                // key → id, and content → (id, hour received) of the stored rows.
                let mut model: HashMap<u8, i64> = HashMap::new();
                let mut by_content: HashMap<u8, Vec<(i64, i64)>> = HashMap::new();
                let mut hours = 0_i64;
                let mut top = 0_i64;
                for op in ops {
                    match op {
                        Op::Receive { store, keys } => {
                            let mut set = tokio::task::JoinSet::new();
                            for key in keys.iter().copied() {
                                let s = stores[store].clone();
                                set.spawn(async move { (key, s.insert(keyed(key, contents, hours)).await.unwrap()) });
                            }
                            let answers = set.join_all().await;
                            let before = top;
                            // The latest row of a content still inside the window.
                            let live = |by_content: &HashMap<u8, Vec<(i64, i64)>>, c: u8| {
                                by_content.get(&c).and_then(|rows| {
                                    rows.iter().filter(|(_, at)| *at >= hours - 1).map(|(id, _)| *id).max()
                                })
                            };
                            let mut new_contents: Vec<u8> = Vec::new();
                            for (key, answer) in &answers {
                                let c = key % contents;
                                if let Some(&id) = model.get(key) {
                                    prop_assert_eq!(*answer, InboxInsert::Duplicate(id), "k{} is stored", key);
                                } else if let Some(id) = live(&by_content, c) {
                                    prop_assert_eq!(*answer, InboxInsert::Duplicate(id), "k{}'s body is stored", key);
                                } else {
                                    new_contents.push(c);
                                }
                            }
                            new_contents.sort_unstable();
                            new_contents.dedup();
                            // Each new body is stored once, under one of the keys that
                            // carried it; every other copy names that row.
                            for c in new_contents {
                                let mine: Vec<(u8, InboxInsert)> = answers
                                    .iter()
                                    .filter(|(k, _)| k % contents == c && !model.contains_key(k))
                                    .map(|(k, a)| (*k, *a))
                                    .collect();
                                let stored: Vec<(u8, i64)> = mine
                                    .iter()
                                    .filter_map(|(k, a)| match a {
                                        InboxInsert::Inserted(id) => Some((*k, *id)),
                                        InboxInsert::Duplicate(_) => None,
                                    })
                                    .collect();
                                prop_assert_eq!(stored.len(), 1, "content {}: {:?}", c, mine);
                                let (key, id) = stored[0];
                                prop_assert!(mine.iter().all(|(_, a)| a.id() == id), "content {c}: {mine:?}");
                                prop_assert!(id > before, "ids are never reused: {id} after {before}");
                                top = top.max(id);
                                model.insert(key, id);
                                by_content.entry(c).or_default().push((id, hours));
                            }
                        }
                        Op::Redact { store, key } => {
                            let shop = ShopId::new(format!("shop-{key}.myshopify.com"));
                            let report = stores[store].redact_shop(&shop).await.unwrap();
                            let gone = model.remove(&key);
                            if let Some(id) = gone {
                                by_content.values_mut().for_each(|rows| rows.retain(|(r, _)| *r != id));
                            }
                            prop_assert_eq!(report.inbox_deleted, u64::from(gone.is_some()));
                        }
                        Op::DeleteBehind { key } => {
                            let deleted = sqlx::query("DELETE FROM inbox WHERE dedupe_key = ?")
                                .bind(format!("k{key}"))
                                .execute(stores[0].pool())
                                .await
                                .unwrap()
                                .rows_affected();
                            let gone = model.remove(&key);
                            if let Some(id) = gone {
                                by_content.values_mut().for_each(|rows| rows.retain(|(r, _)| *r != id));
                            }
                            prop_assert_eq!(deleted, u64::from(gone.is_some()));
                        }
                        Op::Advance { hours: h } => hours += h,
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
