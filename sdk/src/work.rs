//! A unit of work over a claimed inbox batch: what the batch's handlers will read is read
//! ahead in one query, what they write is staged, and the staged writes are committed with
//! the batch's completion in one transaction.
//!
//! Processing one webhook at a time cost about a dozen store round trips (snapshot reads,
//! snapshot writes, a ledger row, a message) plus the entry's completion; issue 20 measured
//! the processor at a tenth of the ingest rate, most of its CPU in hand-offs to the
//! database's connection threads. With a [`WorkStore`] given to the
//! [`InboxProcessor`](crate::inbox::InboxProcessor) (`unit_of_work`), a batch costs a claim,
//! one read ahead ([`WorkStore::snapshots_many`]) and one commit ([`WorkStore::commit`]),
//! whatever its size.
//!
//! **What it guarantees.** A handler that stages ([`EventHandler::handle_staged`]) writes
//! into a [`Stage`]: nothing reaches the store until the commit, and the commit stores the
//! writes of the entries that succeeded *and* marks those entries done, in one transaction
//! where the store allows (SQLite, PostgreSQL). A crash before the commit loses nothing
//! that was acknowledged to anyone: the entries are still claimed and are processed again
//! when their lease runs out, as after any crash. An entry that fails has its staged
//! writes dropped (so a retry starts from what is stored). Reads see the stage's own writes
//! first (entries of one order run in order and see each other's), then what was read
//! ahead, then the store. Snapshots keep their rule — never backwards — twice: when staged
//! (against what the stage sees) and when committed (against what is stored then).
//!
//! A handler that does not stage keeps writing straight to the store (the default
//! [`EventHandler::handle_staged`]), so every handler works under a unit of work.
//!
//! [`EventHandler::handle_staged`]: crate::inbox::EventHandler::handle_staged

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Error;
use crate::model::{ChannelKind, Purpose};
use crate::store::{
    ConsentRecord, ConsentStore, LedgerEntry, NewOutboxMessage, Snapshot, SnapshotStore,
    address_hash,
};

/// A snapshot's key: its kind and id.
pub type SnapshotKey = (String, String);

/// A consent question: a channel, an address in clear (hashed by the store) and a purpose,
/// answered as [`ConsentStore::consent`] answers it.
pub type ConsentKey = (ChannelKind, String, Purpose);

/// What a batch's handler will read ([`EventHandler::read_keys`]), read ahead for the whole
/// batch.
///
/// [`EventHandler::read_keys`]: crate::inbox::EventHandler::read_keys
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ReadKeys {
    /// Snapshots.
    pub snapshots: Vec<SnapshotKey>,
    /// Consent decisions.
    pub consents: Vec<ConsentKey>,
}

/// The writes of a unit of work, in the order they were made.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Work {
    /// Snapshots to store if newer (several of one key: the last one staged is the newest).
    /// Shared: a pipelined next batch reads them while this work commits
    /// ([`Committing`]), without a copy of each document.
    pub snapshots: Vec<Arc<Snapshot>>,
    /// Ledger rows.
    pub ledger: Vec<LedgerEntry>,
    /// Messages to enqueue (as [`Outbox::enqueue`](crate::store::Outbox::enqueue): a key
    /// already queued is a duplicate, recorded in the ledger, not a second message).
    pub messages: Vec<NewOutboxMessage>,
}

impl Work {
    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.snapshots.is_empty() && self.ledger.is_empty() && self.messages.is_empty()
    }

    /// Appends `other`'s writes after these.
    pub fn append(&mut self, mut other: Work) {
        self.snapshots.append(&mut other.snapshots);
        self.ledger.append(&mut other.ledger);
        self.messages.append(&mut other.messages);
    }

    /// The snapshots to write, one per key (the last staged of each, which is the newest: a
    /// stage refuses an older one), in the order their keys were first staged. A store
    /// writing them in one statement needs each key once (PostgreSQL refuses to update a
    /// row twice in one `INSERT ... ON CONFLICT`).
    pub fn latest_snapshots(&self) -> Vec<&Snapshot> {
        let mut at: HashMap<(&str, &str), usize> = HashMap::new();
        let mut out: Vec<&Snapshot> = Vec::new();
        for s in &self.snapshots {
            match at.get(&(s.kind.as_str(), s.id.as_str())) {
                Some(&i) => out[i] = s.as_ref(),
                None => {
                    at.insert((s.kind.as_str(), s.id.as_str()), out.len());
                    out.push(s.as_ref());
                }
            }
        }
        out
    }
}

/// A store that reads ahead and commits a unit of work. Implemented by the SQLite and
/// PostgreSQL stores; [`Unbatched`] gives any store the same interface, one write at a time.
#[async_trait]
pub trait WorkStore: SnapshotStore + ConsentStore + Send + Sync {
    /// The stored snapshots of `keys` (absent keys are absent from the answer), in as few
    /// queries as the store allows.
    async fn snapshots_many(&self, keys: &[SnapshotKey]) -> Result<Vec<Snapshot>, Error>;

    /// The consent decision in force for each of `keys`, in their order (`None` where
    /// nothing is recorded), each exactly as [`ConsentStore::consent`] answers it, in as
    /// few queries as the store allows.
    async fn consents_many(&self, keys: &[ConsentKey])
    -> Result<Vec<Option<ConsentRecord>>, Error>;

    /// Stores `work` and marks the inbox entries `done` processed, in one transaction where
    /// the store allows: all of it is stored, or none of it (and the entries stay claimed,
    /// to be processed again when their lease runs out). Snapshots are stored only if at
    /// least as new as the stored ones; messages follow `Outbox::enqueue` (new, or a
    /// duplicate with its ledger row).
    async fn commit(&self, done: &[i64], work: Work, now: DateTime<Utc>) -> Result<(), Error>;
}

/// [`WorkStore`] over any [`Store`](crate::store::Store): reads one snapshot at a time and
/// writes one thing at a time, completing the entries last (so a crash part-way leaves the
/// entries to be processed again, their writes idempotent). For stores without a
/// transaction of their own; the SQLite and PostgreSQL stores implement [`WorkStore`]
/// themselves.
#[derive(Clone, Debug)]
pub struct Unbatched<S>(pub Arc<S>);

#[async_trait]
impl<S: crate::store::Store + 'static> SnapshotStore for Unbatched<S> {
    async fn put_if_newer(&self, snapshot: &Snapshot) -> Result<bool, Error> {
        self.0.put_if_newer(snapshot).await
    }
    async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
        self.0.snapshot(kind, id).await
    }
}

#[async_trait]
impl<S: crate::store::Store + 'static> ConsentStore for Unbatched<S> {
    async fn set_consent(&self, record: ConsentRecord) -> Result<(), Error> {
        self.0.set_consent(record).await
    }
    async fn consent(
        &self,
        channel: ChannelKind,
        address: &str,
        purpose: Purpose,
    ) -> Result<Option<ConsentRecord>, Error> {
        self.0.consent(channel, address, purpose).await
    }
}

#[async_trait]
impl<S: crate::store::Store + 'static> WorkStore for Unbatched<S> {
    async fn snapshots_many(&self, keys: &[SnapshotKey]) -> Result<Vec<Snapshot>, Error> {
        let mut out = Vec::new();
        for (kind, id) in keys {
            if let Some(s) = self.0.snapshot(kind, id).await? {
                out.push(s);
            }
        }
        Ok(out)
    }

    async fn consents_many(
        &self,
        keys: &[ConsentKey],
    ) -> Result<Vec<Option<ConsentRecord>>, Error> {
        let mut out = Vec::with_capacity(keys.len());
        for (channel, address, purpose) in keys {
            out.push(self.0.consent(*channel, address, *purpose).await?);
        }
        Ok(out)
    }

    async fn commit(&self, done: &[i64], work: Work, now: DateTime<Utc>) -> Result<(), Error> {
        for s in work.latest_snapshots() {
            self.0.put_if_newer(s).await?;
        }
        for e in work.ledger {
            self.0.record(e).await?;
        }
        for m in work.messages {
            self.0.enqueue(m, now).await?;
        }
        self.0.complete_many(done, now).await
    }
}

/// What was read ahead for a batch: every key asked, and what was found; and, when batches
/// are pipelined ([`Pipeline`](crate::inbox::Pipeline)), the snapshots of the batch being
/// committed meanwhile.
#[derive(Debug, Default)]
pub struct ReadAhead {
    asked: HashSet<SnapshotKey>,
    found: HashMap<SnapshotKey, Snapshot>,
    /// Consent answers by channel, address hash and purpose.
    consents: HashMap<(ChannelKind, String, Purpose), Option<ConsentRecord>>,
    /// The snapshots the previous batch is committing while this one is handled: the read
    /// ahead (and the store) may answer from before that commit, so these come first.
    committing: Arc<Committing>,
}

/// The snapshots of a batch whose commit is under way, newest of each key
/// ([`Work::latest_snapshots`]): what a pipelined next batch reads before the store.
#[derive(Debug, Default)]
pub struct Committing {
    snapshots: HashMap<SnapshotKey, Arc<Snapshot>>,
}

impl Committing {
    /// The snapshots `work` will store (shared with it, not copied).
    pub fn of(work: &Work) -> Self {
        let mut snapshots = HashMap::with_capacity(work.snapshots.len());
        // The last staged of a key is its newest (as in `Work::latest_snapshots`).
        for s in &work.snapshots {
            snapshots.insert((s.kind.clone(), s.id.clone()), Arc::clone(s));
        }
        Self { snapshots }
    }

    /// Whether nothing is being committed.
    pub fn is_empty(&self) -> bool {
        self.snapshots.is_empty()
    }
}

impl ReadAhead {
    /// The answer of [`WorkStore::snapshots_many`] for `asked`.
    pub fn new(asked: impl IntoIterator<Item = SnapshotKey>, found: Vec<Snapshot>) -> Self {
        Self {
            asked: asked.into_iter().collect(),
            found: found
                .into_iter()
                .map(|s| ((s.kind.clone(), s.id.clone()), s))
                .collect(),
            consents: HashMap::new(),
            committing: Arc::default(),
        }
    }

    /// Reads `committing` (the previous batch's writes, its commit under way) before what
    /// was read ahead and before the store; a newer snapshot read ahead still wins.
    pub fn with_committing(mut self, committing: Arc<Committing>) -> Self {
        self.committing = committing;
        self
    }

    /// Adds the answers of [`WorkStore::consents_many`] for `asked` (in the same order).
    pub fn with_consents(
        mut self,
        asked: &[ConsentKey],
        found: Vec<Option<ConsentRecord>>,
    ) -> Self {
        for ((channel, address, purpose), answer) in asked.iter().zip(found) {
            self.consents
                .insert((*channel, address_hash(address), *purpose), answer);
        }
        self
    }

    fn consent(
        &self,
        channel: ChannelKind,
        address: &str,
        purpose: Purpose,
    ) -> Option<Option<&ConsentRecord>> {
        self.consents
            .get(&(channel, address_hash(address), purpose))
            .map(Option::as_ref)
    }

    /// `Some(answer)` when `kind`/`id` was read ahead (the answer may be "none stored"),
    /// `None` when it was not asked.
    fn get(&self, kind: &str, id: &str) -> Option<Option<&Snapshot>> {
        let key = (kind.to_owned(), id.to_owned());
        let read = if self.asked.contains(&key) {
            Some(self.found.get(&key))
        } else {
            None
        };
        match (self.committing.snapshots.get(&key), read) {
            // Read after the commit landed, or written meanwhile by someone else.
            (Some(c), Some(Some(r))) if r.version > c.version => Some(Some(r)),
            (Some(c), _) => Some(Some(c.as_ref())),
            (None, read) => read,
        }
    }
}

/// The writes of one order's entries in a batch, staged until the batch commits, and the
/// reads they see. A [`SnapshotStore`]: pass it where a flow's helpers take one.
pub struct Stage {
    ahead: Arc<ReadAhead>,
    base: Arc<dyn WorkStore>,
    work: Mutex<Work>,
}

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = self.work.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("Stage")
            .field("snapshots", &w.snapshots.len())
            .field("ledger", &w.ledger.len())
            .field("messages", &w.messages.len())
            .finish_non_exhaustive()
    }
}

/// A point a stage can be rolled back to ([`Stage::mark`]).
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    snapshots: usize,
    ledger: usize,
    messages: usize,
}

impl Stage {
    /// An empty stage reading `ahead`, then `base`.
    pub fn new(ahead: Arc<ReadAhead>, base: Arc<dyn WorkStore>) -> Self {
        Self {
            ahead,
            base,
            work: Mutex::new(Work::default()),
        }
    }

    fn work(&self) -> std::sync::MutexGuard<'_, Work> {
        self.work.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stages a ledger row.
    pub fn record(&self, entry: LedgerEntry) {
        self.work().ledger.push(entry);
    }

    /// Stages a message (see [`Work::messages`]).
    pub fn enqueue(&self, message: NewOutboxMessage) {
        self.work().messages.push(message);
    }

    /// Where the stage is now.
    pub fn mark(&self) -> Mark {
        let w = self.work();
        Mark {
            snapshots: w.snapshots.len(),
            ledger: w.ledger.len(),
            messages: w.messages.len(),
        }
    }

    /// Drops everything staged since `mark` (an entry that failed).
    pub fn rollback(&self, mark: Mark) {
        let mut w = self.work();
        w.snapshots.truncate(mark.snapshots);
        w.ledger.truncate(mark.ledger);
        w.messages.truncate(mark.messages);
    }

    /// The staged writes.
    pub fn into_work(self) -> Work {
        self.work.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    /// The newest staged snapshot of `kind`/`id` (shared, not copied).
    fn staged(&self, kind: &str, id: &str) -> Option<Arc<Snapshot>> {
        self.work()
            .snapshots
            .iter()
            .rev()
            .find(|s| s.kind == kind && s.id == id)
            .cloned()
    }
}

#[async_trait]
impl SnapshotStore for Stage {
    async fn put_if_newer(&self, snapshot: &Snapshot) -> Result<bool, Error> {
        self.put_if_newer_owned(snapshot.clone()).await
    }

    async fn put_if_newer_owned(&self, snapshot: Snapshot) -> Result<bool, Error> {
        // The version alone is compared: no copy of the current document.
        let current = match self.staged(&snapshot.kind, &snapshot.id) {
            Some(s) => Some(s.version),
            None => match self.ahead.get(&snapshot.kind, &snapshot.id) {
                Some(found) => found.map(|s| s.version),
                None => self
                    .base
                    .snapshot(&snapshot.kind, &snapshot.id)
                    .await?
                    .map(|s| s.version),
            },
        };
        if current.is_some_and(|v| v > snapshot.version) {
            return Ok(false);
        }
        self.work().snapshots.push(Arc::new(snapshot));
        Ok(true)
    }

    async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
        if let Some(s) = self.staged(kind, id) {
            return Ok(Some(Snapshot::clone(&s)));
        }
        match self.ahead.get(kind, id) {
            Some(found) => Ok(found.cloned()),
            None => self.base.snapshot(kind, id).await,
        }
    }
}

/// Consent as the stage sees it: what was read ahead, else the store. A decision recorded
/// here goes straight to the store (consent changes come from customers and providers, not
/// from a batch's flows).
#[async_trait]
impl ConsentStore for Stage {
    async fn set_consent(&self, record: ConsentRecord) -> Result<(), Error> {
        self.base.set_consent(record).await
    }

    async fn consent(
        &self,
        channel: ChannelKind,
        address: &str,
        purpose: Purpose,
    ) -> Result<Option<ConsentRecord>, Error> {
        match self.ahead.consent(channel, address, purpose) {
            Some(found) => Ok(found.cloned()),
            None => self.base.consent(channel, address, purpose).await,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    /// A store that counts reads and knows one snapshot.
    #[derive(Default)]
    struct Counting {
        reads: std::sync::atomic::AtomicUsize,
        known: Option<Snapshot>,
    }

    #[async_trait]
    impl SnapshotStore for Counting {
        async fn put_if_newer(&self, _: &Snapshot) -> Result<bool, Error> {
            panic!("a stage never writes to the store")
        }
        async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(self.known.clone().filter(|s| s.kind == kind && s.id == id))
        }
    }

    #[async_trait]
    impl ConsentStore for Counting {
        async fn set_consent(&self, _: ConsentRecord) -> Result<(), Error> {
            Ok(())
        }
        async fn consent(
            &self,
            channel: ChannelKind,
            address: &str,
            _: Purpose,
        ) -> Result<Option<ConsentRecord>, Error> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Some(ConsentRecord::new(
                channel,
                address,
                None,
                crate::model::ConsentState::Granted,
                "store",
                Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            )))
        }
    }

    #[async_trait]
    impl WorkStore for Counting {
        async fn snapshots_many(&self, _: &[SnapshotKey]) -> Result<Vec<Snapshot>, Error> {
            unreachable!("the stage reads one at a time")
        }
        async fn consents_many(
            &self,
            _: &[ConsentKey],
        ) -> Result<Vec<Option<ConsentRecord>>, Error> {
            unreachable!("the stage reads one at a time")
        }
        async fn commit(&self, _: &[i64], _: Work, _: DateTime<Utc>) -> Result<(), Error> {
            unreachable!("a stage never commits")
        }
    }

    #[tokio::test]
    async fn a_stage_answers_consent_from_the_read_ahead_else_from_the_store() {
        let base = Arc::new(Counting::default());
        let asked: Vec<ConsentKey> = vec![
            (
                ChannelKind::Email,
                "Jane@Example.com ".into(),
                Purpose::Transactional,
            ),
            (ChannelKind::Sms, "+15550100".into(), Purpose::Transactional),
        ];
        let denied = ConsentRecord::new(
            ChannelKind::Email,
            "jane@example.com",
            None,
            crate::model::ConsentState::Denied,
            "reply:STOP",
            Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        );
        let ahead = ReadAhead::default().with_consents(&asked, vec![Some(denied.clone()), None]);
        let stage = Stage::new(Arc::new(ahead), base.clone());
        // The address is hashed as the store hashes it (trimmed, lower-case).
        let got = stage
            .consent(
                ChannelKind::Email,
                "jane@example.com",
                Purpose::Transactional,
            )
            .await
            .unwrap();
        assert_eq!(got, Some(denied));
        let none = stage
            .consent(ChannelKind::Sms, "+15550100", Purpose::Transactional)
            .await
            .unwrap();
        assert_eq!(none, None, "read ahead as nothing recorded");
        assert_eq!(base.reads.load(std::sync::atomic::Ordering::SeqCst), 0);
        // Another purpose was not read ahead: the store answers.
        let other = stage
            .consent(ChannelKind::Sms, "+15550100", Purpose::Marketing)
            .await
            .unwrap();
        assert!(other.is_some());
        assert_eq!(base.reads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    fn snap(kind: &str, id: &str, secs: i64, v: &str) -> Snapshot {
        Snapshot::new(
            kind,
            None,
            id,
            Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap(),
            serde_json::json!(v),
        )
    }

    #[tokio::test]
    async fn a_stage_reads_its_own_writes_then_what_was_read_ahead_then_the_store() {
        let base = Arc::new(Counting {
            known: Some(snap("order", "9", 0, "stored")),
            ..Counting::default()
        });
        let ahead = Arc::new(ReadAhead::new(
            [
                ("shipment".to_owned(), "1".to_owned()),
                ("shipment".to_owned(), "2".to_owned()),
            ],
            vec![snap("shipment", "1", 10, "ahead")],
        ));
        let stage = Stage::new(ahead, base.clone());
        let got = stage.snapshot("shipment", "1").await.unwrap().unwrap();
        assert_eq!(got.data, "ahead");
        assert_eq!(stage.snapshot("shipment", "2").await.unwrap(), None);
        assert_eq!(base.reads.load(std::sync::atomic::Ordering::SeqCst), 0);
        // Not read ahead: asked of the store.
        let got = stage.snapshot("order", "9").await.unwrap().unwrap();
        assert_eq!(got.data, "stored");
        assert_eq!(base.reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Staged writes are seen first; an older one is refused, as the store refuses it.
        assert!(
            stage
                .put_if_newer(&snap("shipment", "1", 20, "newer"))
                .await
                .unwrap()
        );
        assert!(
            !stage
                .put_if_newer(&snap("shipment", "1", 15, "older"))
                .await
                .unwrap()
        );
        assert!(
            !stage
                .put_if_newer(&snap("order", "9", -5, "older"))
                .await
                .unwrap()
        );
        let got = stage.snapshot("shipment", "1").await.unwrap().unwrap();
        assert_eq!(got.data, "newer");
        let work = stage.into_work();
        assert_eq!(work.snapshots.len(), 1);
    }

    /// A staged snapshot is kept as given, and the batch's commit and the next batch's
    /// reads ([`Committing`]) share it: documents are not copied per batch.
    #[tokio::test]
    async fn staged_snapshots_are_shared_with_the_commit_not_copied() {
        let stage = Stage::new(
            Arc::new(ReadAhead::new(
                [("order".to_owned(), "1".to_owned())],
                vec![snap("order", "1", 0, "ahead")],
            )),
            Arc::new(Counting::default()),
        );
        assert!(
            stage
                .put_if_newer_owned(snap("order", "1", 5, "staged"))
                .await
                .unwrap()
        );
        assert!(
            !stage
                .put_if_newer_owned(snap("order", "1", 1, "older than staged"))
                .await
                .unwrap()
        );
        let work = stage.into_work();
        let committing = Committing::of(&work);
        assert_eq!(work.snapshots.len(), 1);
        assert_eq!(Arc::strong_count(&work.snapshots[0]), 2);
        let ahead = ReadAhead::default().with_committing(Arc::new(committing));
        let seen = ahead
            .get("order", "1")
            .flatten()
            .map(|s| s as *const Snapshot);
        assert_eq!(seen, Some(Arc::as_ptr(&work.snapshots[0])));
    }

    #[tokio::test]
    async fn a_rollback_drops_what_a_failed_entry_staged_and_keeps_the_rest() {
        let stage = Stage::new(
            Arc::new(ReadAhead::default()),
            Arc::new(Counting::default()),
        );
        assert!(
            stage
                .put_if_newer(&snap("shipment", "1", 0, "first"))
                .await
                .unwrap()
        );
        stage.record(LedgerEntry::new(
            Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            crate::store::Decision::Skipped,
            "kept",
        ));
        let mark = stage.mark();
        assert!(
            stage
                .put_if_newer(&snap("shipment", "1", 5, "failed"))
                .await
                .unwrap()
        );
        stage.record(LedgerEntry::new(
            Utc.timestamp_opt(1_700_000_001, 0).unwrap(),
            crate::store::Decision::Skipped,
            "dropped",
        ));
        stage.rollback(mark);
        assert_eq!(
            stage.snapshot("shipment", "1").await.unwrap().unwrap().data,
            "first"
        );
        let work = stage.into_work();
        assert_eq!(work.ledger.len(), 1);
        assert_eq!(work.ledger[0].reason, "kept");
    }

    #[test]
    fn the_latest_snapshot_of_each_key_is_written_once_in_first_staged_order() {
        let mut w = Work::default();
        w.snapshots.push(snap("order", "1", 0, "a").into());
        w.snapshots.push(snap("shipment", "1", 0, "b").into());
        w.snapshots.push(snap("order", "1", 5, "c").into());
        let latest: Vec<&str> = w
            .latest_snapshots()
            .iter()
            .map(|s| s.data.as_str().unwrap_or_default())
            .collect();
        assert_eq!(latest, ["c", "b"]);
    }
}
