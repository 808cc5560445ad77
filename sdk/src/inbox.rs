//! Processing stored webhooks: claim from the inbox, decode, hand to a handler, retry with
//! backoff, dead-letter what keeps failing.
//!
//! A batch is processed concurrently across orders and in order within one: entries are
//! decoded first and grouped by the order their events name; up to
//! [`InboxProcessor::concurrency`] groups run at once, each group's entries one after the
//! other in the inbox's order. An entry whose events name no order (an app uninstalled, a
//! redaction request, a customer update) and an entry a [`Hydrator`] builds are barriers:
//! everything claimed before it finishes first, and it runs alone. Completed entries are
//! marked done together at the end of the batch ([`Inbox::complete_many`]).
//!
//! Under a unit of work ([`InboxProcessor::unit_of_work`], [`crate::work`]) a batch's
//! writes are committed with its completion in one transaction, and [`Pipeline`] (what
//! [`InboxProcessor::run`] and [`InboxProcessor::drain`] use) commits each batch while the
//! next one is read ahead and handled.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::Error;
use crate::backoff::RetryPolicy;
use crate::clock::Clock;
use crate::model::PlatformEvent;
use crate::platform::thin::Hydrator;
use crate::store::{Inbox, InboxEntry};
use crate::webhook::WebhookSource;
use crate::work::{Committing, ReadAhead, ReadKeys, Stage, Work, WorkStore};

/// What a handler says when it cannot finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// Try again later (a platform API was down, the database was busy).
    #[error("will retry: {0}")]
    Retry(String),
    /// Never going to work (the data is inconsistent): dead-letter now.
    #[error("poisoned: {0}")]
    Poison(String),
}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        if e.is_retryable() {
            HandlerError::Retry(e.to_string())
        } else {
            HandlerError::Poison(e.to_string())
        }
    }
}

/// Acts on the events decoded from one stored webhook. Must be idempotent: an entry is
/// processed at least once, and again after a crash mid-way.
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Handles the events of one inbox entry.
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError>;

    /// Under a unit of work ([`InboxProcessor::unit_of_work`]): what handling `events` will
    /// read (the snapshots it reads or writes, the consent it asks about), added to `keys`,
    /// so the processor reads it for the whole batch in one query each. Default: nothing.
    fn read_keys(&self, _events: &[PlatformEvent], _keys: &mut ReadKeys) {}

    /// Under a unit of work: called once per claimed batch, before any entry of it is
    /// handled, with every decoded entry's events, to read ahead from outside the store
    /// (a platform's API asked once for the whole batch, say). A failure here only costs
    /// the read ahead: each entry then asks for itself. Default: nothing.
    async fn prepare(&self, _batch: &[&[PlatformEvent]]) {}

    /// Under a unit of work: handles one entry, staging its writes in `stage` (committed
    /// with the entry's completion, dropped if this returns an error) and reading through
    /// it. Default: [`EventHandler::handle`], whose writes go straight to the store.
    async fn handle_staged(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
        _stage: &Stage,
    ) -> Result<(), HandlerError> {
        self.handle(entry, events).await
    }
}

/// What one pass of the processor did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessReport {
    /// Entries handled successfully.
    pub done: u32,
    /// Entries left for a later retry.
    pub retried: u32,
    /// Entries dead-lettered.
    pub dead: u32,
}

/// Takes work from the inbox and runs it through the sources' decoders and a handler.
///
/// Cloning is cheap (its parts are shared): the clones handle a batch's orders on every
/// worker thread of the runtime.
#[derive(Clone)]
pub struct InboxProcessor {
    inbox: Arc<dyn Inbox>,
    sources: HashMap<String, Arc<dyn WebhookSource>>,
    hydrators: HashMap<String, Arc<dyn Hydrator>>,
    handler: Arc<dyn EventHandler>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    batch: u32,
    lease: Duration,
    concurrency: usize,
    work: Option<UnitOfWork>,
}

/// The store a unit of work reads ahead from, reads through and commits to.
#[derive(Clone)]
struct UnitOfWork {
    store: Arc<dyn WorkStore>,
}

impl std::fmt::Debug for InboxProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxProcessor")
            .field("sources", &self.sources.keys().collect::<Vec<_>>())
            .field("hydrators", &self.hydrators.keys().collect::<Vec<_>>())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl InboxProcessor {
    /// A processor over an inbox, with a handler.
    pub fn new(
        inbox: Arc<dyn Inbox>,
        handler: Arc<dyn EventHandler>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inbox,
            sources: HashMap::new(),
            hydrators: HashMap::new(),
            handler,
            clock,
            policy: RetryPolicy::default(),
            batch: 128,
            lease: Duration::from_secs(5 * 60),
            concurrency: 16,
            work: None,
        }
    }

    /// Registers the source that decodes entries stored under `name`.
    pub fn source(mut self, name: impl Into<String>, source: Arc<dyn WebhookSource>) -> Self {
        self.sources.insert(name.into(), source);
        self
    }

    /// Registers the [`Hydrator`] that builds the events of entries stored under `name`
    /// (a platform whose webhooks carry only ids). It takes the place of the source's
    /// `decode`; a retryable error from it retries the entry with the inbox's backoff.
    pub fn hydrator(mut self, name: impl Into<String>, hydrator: Arc<dyn Hydrator>) -> Self {
        self.hydrators.insert(name.into(), hydrator);
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the claim lease: how long an entry stays hidden while being processed.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets how many entries one claim takes (default 128, at least 1).
    pub fn batch_size(mut self, entries: u32) -> Self {
        self.batch = entries.max(1);
        self
    }

    /// Sets how many orders of a batch are processed at once (default 16, at least 1);
    /// entries of one order are always processed one after the other, oldest first. `1`
    /// processes one order at a time: the orders in the order of their first entry in the
    /// batch, each order's entries together. Above 1, the orders are spread over the
    /// runtime's worker threads, never more than this many at once in all.
    pub fn concurrency(mut self, orders: usize) -> Self {
        self.concurrency = orders.max(1);
        self
    }

    /// Processes each claimed batch as a unit of work ([`crate::work`]) on `store` (the
    /// inbox's own store): what the handler names ([`EventHandler::read_keys`]) is read for
    /// the whole batch in one query per kind, the handler's [`EventHandler::prepare`] reads
    /// ahead from outside, each entry is handled with [`EventHandler::handle_staged`], and
    /// the staged writes of the entries that succeeded are committed together with their
    /// completion ([`WorkStore::commit`]); reads not made ahead go to `store`. An entry
    /// naming no order (a barrier) runs after everything before it is committed, is
    /// committed alone, and what was read ahead is not used after it.
    ///
    /// Give it handlers that stage every write to what they read (the tracking flow does),
    /// or whose direct writes touch nothing another part reads ahead: what was read ahead
    /// is the store at the batch's start, plus what the stage itself wrote.
    pub fn unit_of_work(mut self, store: Arc<dyn WorkStore>) -> Self {
        self.work = Some(UnitOfWork { store });
        self
    }

    /// Claims and processes one batch of due entries.
    pub async fn run_once(&self) -> Result<ProcessReport, Error> {
        let started = std::time::Instant::now();
        let prepared = self.claim().await?;
        let claimed = started.elapsed();
        let mut h = self.process(prepared, None).await?;
        let handled = started.elapsed();
        self.finish(&mut h.done, &mut h.work, &mut h.report).await?;
        if h.size > 0 {
            tracing::debug!(
                entries = h.size,
                claim_us = claimed.as_micros() as u64,
                read_ahead_us = h.read_ahead.as_micros() as u64,
                handle_us = (handled - claimed - h.read_ahead).as_micros() as u64,
                commit_us = (started.elapsed() - handled).as_micros() as u64,
                "inbox batch processed"
            );
        }
        match h.first_error {
            Some(e) => Err(e),
            None => Ok(h.report),
        }
    }

    /// Batches processed back to back, each committed while the next is handled (under a
    /// unit of work; without one, [`Pipeline::step`] is [`Self::run_once`]). See
    /// [`Pipeline`].
    pub fn pipeline(&self) -> Pipeline<'_> {
        Pipeline {
            processor: self,
            pending: None,
        }
    }

    /// Claims due entries and decodes them.
    async fn claim(&self) -> Result<Vec<Prepared>, Error> {
        let entries = self.claim_entries().await?;
        Ok(entries.into_iter().map(|e| self.prepare(e)).collect())
    }

    /// Claims due entries.
    async fn claim_entries(&self) -> Result<Vec<InboxEntry>, Error> {
        let now = self.clock.now();
        self.inbox.claim(now, self.batch, self.lease).await
    }

    /// Reads a claimed batch ahead and handles it; what is done is left to commit (a
    /// barrier commits what came before it and itself, so a batch with one must not run
    /// while another batch's commit is under way). `committing`: the writes of the batch
    /// being committed meanwhile, read before the store.
    async fn process(
        &self,
        prepared: Vec<Prepared>,
        committing: Option<Arc<Committing>>,
    ) -> Result<Handled, Error> {
        let started = std::time::Instant::now();
        let size = prepared.len();
        let mut ahead = match &self.work {
            Some(unit) => Some(self.read_ahead(unit, &prepared, committing).await),
            None => None,
        };
        let mut h = Handled {
            size,
            read_ahead: started.elapsed(),
            ..Handled::default()
        };
        for segment in segments(prepared) {
            let barrier =
                segment.len() == 1 && segment[0].len() == 1 && segment[0][0].order.is_none();
            if barrier {
                // Everything before a barrier is stored first; what was read ahead may be
                // stale after it.
                self.finish(&mut h.done, &mut h.work, &mut h.report).await?;
                ahead = ahead.map(|_| Arc::new(ReadAhead::default()));
            }
            let results = self.run_segment(segment, ahead.clone()).await?;
            for (outcomes, staged) in results {
                h.work.append(staged);
                for (entry, result) in outcomes {
                    if let Err(e) = self
                        .settle(&entry, result, &mut h.report, &mut h.done)
                        .await
                    {
                        h.first_error.get_or_insert(e);
                    }
                }
            }
            if barrier {
                self.finish(&mut h.done, &mut h.work, &mut h.report).await?;
            }
        }
        Ok(h)
    }

    /// A segment's orders, at most `concurrency` at once. Where the runtime has several
    /// worker threads (and `concurrency` allows more than one order), the orders are dealt
    /// to as many tasks, each running its share of `concurrency`: one task polls all its
    /// handlers on one thread at a time, and handling is most of processing's CPU (beside
    /// ingest in the load harness: 2,364–2,385 processed/s on one task, 2,618–2,657 dealt
    /// to two). An order's entries stay together and in order on one task.
    async fn run_segment(
        &self,
        segment: Vec<Vec<Prepared>>,
        ahead: Option<Arc<ReadAhead>>,
    ) -> Result<Vec<(Vec<Outcome>, Work)>, Error> {
        use futures::StreamExt as _;

        let workers = tokio::runtime::Handle::try_current()
            .map(|h| h.metrics().num_workers())
            .unwrap_or(1);
        let shards = workers.min(self.concurrency).min(segment.len());
        if shards <= 1 {
            return Ok(futures::stream::iter(segment.into_iter().map(|group| {
                let ahead = ahead.clone();
                async move { self.run_group(group, ahead).await }
            }))
            .buffer_unordered(self.concurrency)
            .collect()
            .await);
        }
        let mut dealt: Vec<Vec<Vec<Prepared>>> = (0..shards).map(|_| Vec::new()).collect();
        for (i, group) in segment.into_iter().enumerate() {
            dealt[i % shards].push(group);
        }
        // Each task's share; together never more than `concurrency`.
        let share = (self.concurrency / shards).max(1);
        // A `JoinSet`: if this future is dropped (the processor stopped) or a handler
        // panics, the other tasks are aborted with it, as their handlers were dropped when
        // they all ran on this task; none keeps running after its processor.
        let mut tasks = tokio::task::JoinSet::new();
        for groups in dealt {
            let me = self.clone();
            let ahead = ahead.clone();
            // In the caller's span, as the handlers are when they run on its task.
            let span = tracing::Span::current();
            tasks.spawn(tracing::Instrument::instrument(
                async move {
                    futures::stream::iter(groups.into_iter().map(|group| {
                        let ahead = ahead.clone();
                        let me = &me;
                        async move { me.run_group(group, ahead).await }
                    }))
                    .buffer_unordered(share)
                    .collect::<Vec<_>>()
                    .await
                },
                span,
            ));
        }
        let mut out = Vec::new();
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(results) => out.extend(results),
                // A handler's panic is the caller's, as it is on one task.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => {
                    return Err(Error::storage(
                        "handle a batch",
                        format!(
                            "a handling task was cancelled ({e}); its entries are processed again when their lease runs out"
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// One order's entries, in order; under a unit of work, staged in one [`Stage`] (an
    /// entry that fails has its writes rolled back).
    async fn run_group(
        &self,
        group: Vec<Prepared>,
        ahead: Option<Arc<ReadAhead>>,
    ) -> (Vec<Outcome>, Work) {
        let mut out = Vec::with_capacity(group.len());
        let stage = match (&self.work, ahead) {
            (Some(unit), Some(ahead)) => Some(Stage::new(ahead, unit.store.clone())),
            _ => None,
        };
        for p in group {
            let r = match &stage {
                Some(stage) => {
                    let mark = stage.mark();
                    let r = self.handle(&p.entry, p.events, Some(stage)).await;
                    if r.is_err() {
                        stage.rollback(mark);
                    }
                    r
                }
                None => self.handle(&p.entry, p.events, None).await,
            };
            out.push((p.entry, r));
        }
        (out, stage.map(Stage::into_work).unwrap_or_default())
    }

    /// The batch's snapshots in one query, and the handler's own read ahead. A failed read
    /// ahead is logged and costs only speed: every read then goes to the store.
    async fn read_ahead(
        &self,
        unit: &UnitOfWork,
        batch: &[Prepared],
        committing: Option<Arc<Committing>>,
    ) -> Arc<ReadAhead> {
        let decoded: Vec<&[PlatformEvent]> = batch
            .iter()
            .filter_map(|p| match &p.events {
                Some(Ok(events)) => Some(events.as_slice()),
                _ => None,
            })
            .collect();
        let mut keys = ReadKeys::default();
        for events in &decoded {
            self.handler.read_keys(events, &mut keys);
        }
        keys.snapshots.sort_unstable();
        keys.snapshots.dedup();
        keys.consents.sort_unstable_by(|a, b| {
            (a.0.as_str(), &a.1, a.2.as_str()).cmp(&(b.0.as_str(), &b.1, b.2.as_str()))
        });
        keys.consents.dedup();
        let (found, consents, ()) = futures::join!(
            unit.store.snapshots_many(&keys.snapshots),
            unit.store.consents_many(&keys.consents),
            self.handler.prepare(&decoded)
        );
        let mut ahead = match found {
            Ok(found) => ReadAhead::new(keys.snapshots, found),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the batch's snapshots ahead; each entry reads its own");
                ReadAhead::default()
            }
        };
        if let Some(committing) = committing {
            ahead = ahead.with_committing(committing);
        }
        match consents {
            Ok(found) => Arc::new(ahead.with_consents(&keys.consents, found)),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the batch's consent ahead; each entry reads its own");
                Arc::new(ahead)
            }
        }
    }

    /// Stores what is staged and completes the entries done so far (one commit under a unit
    /// of work, `complete_many` otherwise).
    async fn finish(
        &self,
        done: &mut Vec<i64>,
        work: &mut Work,
        report: &mut ProcessReport,
    ) -> Result<(), Error> {
        if done.is_empty() && work.is_empty() {
            return Ok(());
        }
        done.sort_unstable();
        let now = self.clock.now();
        match &self.work {
            Some(unit) => unit.store.commit(done, std::mem::take(work), now).await?,
            None => self.inbox.complete_many(done, now).await?,
        }
        report.done += done.len() as u32;
        done.clear();
        Ok(())
    }

    /// Records what became of one entry (done ones are collected to complete together).
    async fn settle(
        &self,
        entry: &InboxEntry,
        result: Result<(), HandlerError>,
        report: &mut ProcessReport,
        done: &mut Vec<i64>,
    ) -> Result<(), Error> {
        match result {
            Ok(()) => done.push(entry.id),
            Err(HandlerError::Retry(why)) if self.policy.may_retry(entry.attempts) => {
                let delay = self.policy.delay(entry.attempts, None);
                let at = self.clock.now()
                    + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                tracing::warn!(id = entry.id, attempts = entry.attempts, %why, "inbox entry failed; will retry");
                self.inbox.retry_at(entry.id, at, &why).await?;
                report.retried += 1;
            }
            Err(e) => {
                let reason = match e {
                    HandlerError::Retry(why) => {
                        format!("gave up after {} attempts: {why}", entry.attempts)
                    }
                    HandlerError::Poison(why) => why,
                };
                tracing::error!(id = entry.id, %reason, "inbox entry dead-lettered");
                self.inbox.dead_letter(entry.id, &reason).await?;
                report.dead += 1;
            }
        }
        Ok(())
    }

    /// Decodes an entry (not one a hydrator builds: that is left to [`Self::handle`]) and
    /// finds the order it belongs to.
    fn prepare(&self, entry: InboxEntry) -> Prepared {
        if self.hydrators.contains_key(&entry.source) {
            return Prepared {
                entry,
                events: None,
                order: None,
            };
        }
        let events = match self.sources.get(&entry.source) {
            None => Err(HandlerError::Poison(format!(
                "no source named `{}` is registered",
                entry.source
            ))),
            Some(source) => source
                .decode(&entry)
                .map_err(|e| HandlerError::Poison(e.to_string())),
        };
        let order = events.as_ref().ok().and_then(|ev| order_key(ev));
        Prepared {
            entry,
            events: Some(events),
            order,
        }
    }

    /// Hands an entry's events (hydrating them first where a hydrator is registered) to
    /// the handler.
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Option<Result<Vec<PlatformEvent>, HandlerError>>,
        stage: Option<&Stage>,
    ) -> Result<(), HandlerError> {
        let events = match events {
            Some(decoded) => decoded?,
            None => match self.hydrators.get(&entry.source) {
                Some(h) => h.hydrate(entry).await.map_err(HandlerError::from)?,
                None => {
                    return Err(HandlerError::Poison(format!(
                        "no source named `{}` is registered",
                        entry.source
                    )));
                }
            },
        };
        match stage {
            Some(stage) => self.handler.handle_staged(entry, events, stage).await,
            None => self.handler.handle(entry, events).await,
        }
    }

    /// Processes batches until the inbox has nothing due; returns the totals. Pipelined
    /// under a unit of work ([`Self::pipeline`]).
    pub async fn drain(&self) -> Result<ProcessReport, Error> {
        self.pipeline().drain().await
    }

    /// Runs forever, polling every `interval` when idle; stops when `shutdown` resolves,
    /// with what it handled committed. Pipelined under a unit of work ([`Self::pipeline`]).
    pub async fn run(&self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut pipeline = self.pipeline();
        loop {
            let idle = match pipeline.step().await {
                Ok(r) => r.done + r.retried + r.dead == 0 && !pipeline.is_pending(),
                Err(e) => {
                    tracing::error!(error = %e, "inbox processing failed; backing off");
                    if let Err(e) = pipeline.flush().await {
                        tracing::error!(error = %e, "inbox commit failed; its entries are processed again when their lease runs out");
                    }
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        }
    }
}

/// A batch handled and not yet committed.
#[derive(Default)]
struct Handled {
    size: usize,
    read_ahead: Duration,
    /// Entries handled successfully, to complete with `work`.
    done: Vec<i64>,
    work: Work,
    /// Retried and dead-lettered entries (settled already); `done` is counted at the commit.
    report: ProcessReport,
    first_error: Option<Error>,
}

/// Batches processed back to back under a unit of work, each batch's commit running while
/// the next batch is read ahead and handled ([`InboxProcessor::pipeline`]).
///
/// The commit runs on the store's connection while the handlers run here, so a processor
/// that would wait for each commit keeps both busy instead. What it keeps:
/// - **Order.** Batch N+1 is claimed before batch N's commit starts (on SQLite both need
///   the one writer) and handled while it runs; its reads see N's snapshots first
///   ([`ReadAhead::with_committing`]), whether or not N's commit has landed. Commits happen
///   in batch order, one at a time.
/// - **Nothing half-done.** If N's commit fails, N+1's handled work is dropped too (it was
///   built on N's writes): both batches' entries stay claimed and are processed again when
///   their lease runs out, as after a crash. Entries N+1 retried or dead-lettered are
///   recorded already, as they are without a pipeline.
/// - **Barriers.** A batch holding an entry that names no order waits for the commit
///   under way and is then processed as [`InboxProcessor::run_once`] processes it.
/// - **Stopping.** [`Pipeline::flush`] commits the batch handled last; call it before the
///   store closes (a pipeline dropped without it leaves that batch to its lease).
pub struct Pipeline<'a> {
    processor: &'a InboxProcessor,
    pending: Option<Handled>,
}

impl std::fmt::Debug for Pipeline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("pending", &self.pending.as_ref().map(|h| h.done.len()))
            .finish_non_exhaustive()
    }
}

impl Pipeline<'_> {
    /// Claims and handles one batch while the previous one is committed. Returns what the
    /// previous batch's commit made done, and what this batch retried or dead-lettered; an
    /// empty report means nothing was claimed and nothing is left to commit.
    pub async fn step(&mut self) -> Result<ProcessReport, Error> {
        let p = self.processor;
        let Some(unit) = &p.work else {
            return p.run_once().await;
        };
        let started = std::time::Instant::now();
        // Claimed before the previous batch's commit starts: on SQLite both need the writer.
        let entries = p.claim_entries().await?;
        let claimed = started.elapsed();
        let pending = self.pending.take();
        let committing = pending.as_ref().map(|h| Arc::new(Committing::of(&h.work)));
        // The commit runs as a task of its own: on this task it would wait for each poll
        // between the handlers' work, holding the store's write transaction meanwhile.
        let commit = pending.map(|mut h| {
            let store = unit.store.clone();
            let now = p.clock.now();
            tokio::spawn(async move {
                let t = std::time::Instant::now();
                h.done.sort_unstable();
                store.commit(&h.done, h.work, now).await?;
                Ok::<_, Error>((h.done.len() as u32, t.elapsed()))
            })
        });
        // Decoded while the previous batch commits.
        let prepared: Vec<Prepared> = entries.into_iter().map(|e| p.prepare(e)).collect();
        let mut report = ProcessReport::default();
        let mut commit_time = Duration::ZERO;
        if prepared.iter().any(|e| e.order.is_none()) {
            // A barrier: what came before it is stored first.
            if let Some(commit) = commit {
                report.done = joined(commit).await?.0;
            }
            let mut h = p.process(prepared, None).await?;
            p.finish(&mut h.done, &mut h.work, &mut h.report).await?;
            report.add(h.report);
            return match h.first_error {
                Some(e) => Err(e),
                None => Ok(report),
            };
        }
        let handled = p.process(prepared, committing).await;
        if let Some(commit) = commit {
            let (done, took) = joined(commit).await?;
            report.done = done;
            commit_time = took;
        }
        let mut h = handled?;
        if h.size > 0 {
            tracing::debug!(
                entries = h.size,
                claim_us = claimed.as_micros() as u64,
                read_ahead_us = h.read_ahead.as_micros() as u64,
                handle_us = (started.elapsed() - claimed - h.read_ahead).as_micros() as u64,
                previous_commit_us = commit_time.as_micros() as u64,
                "inbox batch handled (pipelined)"
            );
        }
        report.retried += h.report.retried;
        report.dead += h.report.dead;
        h.report = ProcessReport::default();
        if let Some(e) = h.first_error.take() {
            p.finish(&mut h.done, &mut h.work, &mut report).await?;
            return Err(e);
        }
        if !(h.done.is_empty() && h.work.is_empty()) {
            self.pending = Some(h);
        }
        Ok(report)
    }

    /// Whether a handled batch waits for its commit (the next [`Self::step`] or
    /// [`Self::flush`] commits it).
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Commits the batch handled last, if any (before stopping).
    pub async fn flush(&mut self) -> Result<ProcessReport, Error> {
        let mut report = ProcessReport::default();
        if let Some(mut h) = self.pending.take() {
            self.processor
                .finish(&mut h.done, &mut h.work, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// Processes batches until nothing is due and everything is committed; the totals. On
    /// an error, what was handled before it is committed first (if it can be).
    pub async fn drain(&mut self) -> Result<ProcessReport, Error> {
        let mut total = ProcessReport::default();
        loop {
            let r = match self.step().await {
                Ok(r) => r,
                Err(e) => {
                    if let Err(commit) = self.flush().await {
                        tracing::error!(error = %commit, "inbox commit failed; its entries are processed again when their lease runs out");
                    }
                    return Err(e);
                }
            };
            total.add(r);
            if r.done + r.retried + r.dead == 0 && !self.is_pending() {
                return Ok(total);
            }
        }
    }
}

/// A spawned commit's outcome: what it made done and how long it took.
async fn joined(
    commit: tokio::task::JoinHandle<Result<(u32, Duration), Error>>,
) -> Result<(u32, Duration), Error> {
    commit
        .await
        .map_err(|e| Error::storage("commit a unit of work (its task ended)", e))?
}

impl ProcessReport {
    fn add(&mut self, other: ProcessReport) {
        self.done += other.done;
        self.retried += other.retried;
        self.dead += other.dead;
    }
}

/// An entry and what handling it came to.
type Outcome = (InboxEntry, Result<(), HandlerError>);

/// An entry ready to hand to the handler: its decoded events (`None` when a hydrator builds
/// them), and the order they belong to.
struct Prepared {
    entry: InboxEntry,
    events: Option<Result<Vec<PlatformEvent>, HandlerError>>,
    order: Option<(String, String)>,
}

/// The order every event of an entry names, as (shop, order id); `None` when they name
/// none or several.
fn order_key(events: &[PlatformEvent]) -> Option<(String, String)> {
    let mut key: Option<(String, String)> = None;
    for e in events {
        let (shop, order) = match e {
            PlatformEvent::OrderCreated { order }
            | PlatformEvent::OrderPaid { order }
            | PlatformEvent::OrderUpdated { order }
            | PlatformEvent::OrderCancelled { order } => (order.shop.as_ref(), &order.id),
            PlatformEvent::ShipmentCreated { shipment }
            | PlatformEvent::ShipmentUpdated { shipment } => {
                (shipment.shop.as_ref(), &shipment.order_id)
            }
            _ => return None,
        };
        let this = (
            shop.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            order.as_str().to_owned(),
        );
        match &key {
            None => key = Some(this),
            Some(k) if *k == this => {}
            Some(_) => return None,
        }
    }
    key
}

/// Splits a batch (in the inbox's order) into segments run one after the other: a segment
/// is either groups of keyed entries (one group per order, each in the inbox's order) run
/// concurrently, or a single unkeyed entry, run alone.
fn segments(batch: Vec<Prepared>) -> Vec<Vec<Vec<Prepared>>> {
    let mut out: Vec<Vec<Vec<Prepared>>> = Vec::new();
    let mut groups: Vec<Vec<Prepared>> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for p in batch {
        match p.order.clone() {
            Some(key) => match index.get(&key) {
                Some(&i) => groups[i].push(p),
                None => {
                    index.insert(key, groups.len());
                    groups.push(vec![p]);
                }
            },
            None => {
                if !groups.is_empty() {
                    out.push(std::mem::take(&mut groups));
                    index.clear();
                }
                out.push(vec![vec![p]]);
            }
        }
    }
    if !groups.is_empty() {
        out.push(groups);
    }
    out
}
