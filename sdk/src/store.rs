//! The storage traits: inbox, outbox and schedule, ledger, consent and survey answers.
//!
//! Backends (`aftercare-sqlite`, `aftercare-postgres`) implement every trait here and pass
//! the conformance suite in `aftercare::conformance` (feature `conformance`) unchanged.
//!
//! Two rules every backend keeps:
//! - every outbox state change writes its ledger row in the same transaction, so no send,
//!   deferral or skip is ever without its reason;
//! - claims are leases: work claimed by a process that then dies is claimed again once the
//!   lease runs out, and a change made under an expired claim is refused.
//!
//! One file past 800 lines: the traits are one contract, which a backend's author reads
//! whole.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::Error;
use crate::model::{
    ChannelKind, ConsentState, CustomerId, Invitation, OrderId, OutboundMessage, Purpose, Receipt,
    ShopId, SurveyResponse,
};
use crate::webhook::VerifiedWebhook;

// ---------------------------------------------------------------- inbox

/// How long a stored webhook's content makes a later copy of it a duplicate, whatever id
/// that copy carries: 72 hours, longer than the platforms' documented retry periods
/// (Shopify: 8 attempts over 4 hours; BigCommerce and Wix: about 48 hours; Zid: 3 days).
/// See [`NewInboxEntry::content_window`].
pub const DEFAULT_CONTENT_WINDOW: Duration = Duration::from_secs(72 * 3600);

/// The content key of a webhook: SHA-256 over its source's name, its topic and its raw
/// body, each delimited so that no two different triples share an input. What a signature
/// covers is the body; this key is how the inbox recognises the same signed body posted
/// again under a fresh, unsigned de-duplication id (see [`Inbox::insert`]).
///
/// ```
/// use aftercare::store::content_key;
/// let a = content_key("shopify", Some("orders/paid"), b"{}");
/// assert_eq!(a, content_key("shopify", Some("orders/paid"), b"{}"));
/// assert_ne!(a, content_key("shopify", Some("orders/fulfilled"), b"{}"));
/// assert_ne!(a, content_key("shopify", None, b"{}"));
/// assert_ne!(a, content_key("woocommerce", Some("orders/paid"), b"{}"));
/// ```
pub fn content_key(source: &str, topic: Option<&str>, body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"aftercare inbox content v1\0");
    h.update((source.len() as u64).to_be_bytes());
    h.update(source.as_bytes());
    match topic {
        None => h.update([0]),
        Some(t) => {
            h.update([1]);
            h.update((t.len() as u64).to_be_bytes());
            h.update(t.as_bytes());
        }
    }
    h.update(body);
    h.finalize().into()
}

/// A verified webhook to store.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewInboxEntry {
    /// The source's name (the `{source}` in `/webhooks/{source}`).
    pub source: String,
    /// What verification learnt.
    pub verified: VerifiedWebhook,
    /// The raw body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// A webhook stored no earlier than this long before `received_at` with the same
    /// [`content_key`] (source, topic and body) makes this one a duplicate, whatever its
    /// de-duplication key. [`DEFAULT_CONTENT_WINDOW`] unless set.
    pub content_window: Duration,
}

impl NewInboxEntry {
    /// A new entry, with the [`DEFAULT_CONTENT_WINDOW`].
    pub fn new(
        source: impl Into<String>,
        verified: VerifiedWebhook,
        body: Vec<u8>,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            source: source.into(),
            verified,
            body,
            received_at,
            content_window: DEFAULT_CONTENT_WINDOW,
        }
    }

    /// The same entry with another content window.
    pub fn with_content_window(mut self, window: Duration) -> Self {
        self.content_window = window;
        self
    }

    /// Its [`content_key`], from its source, topic and body as they are now.
    pub fn content_key(&self) -> [u8; 32] {
        content_key(&self.source, self.verified.topic.as_deref(), &self.body)
    }

    /// The earliest arrival time of a stored webhook with the same content that makes this
    /// one a duplicate: `received_at - content_window`, not earlier than 1970 (a window
    /// longer than that reaches every webhook).
    pub fn content_since(&self) -> DateTime<Utc> {
        chrono::Duration::from_std(self.content_window)
            .ok()
            .and_then(|d| self.received_at.checked_sub_signed(d))
            .map_or(DateTime::UNIX_EPOCH, |t| t.max(DateTime::UNIX_EPOCH))
    }
}

/// The outcome of storing a webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxInsert {
    /// Stored for the first time, with this id.
    Inserted(i64),
    /// Already stored, with this id (same source and key, or same content within the
    /// window: see [`Inbox::insert`]); nothing changed.
    Duplicate(i64),
}

impl InboxInsert {
    /// The entry's id, new or existing.
    pub fn id(self) -> i64 {
        match self {
            InboxInsert::Inserted(id) | InboxInsert::Duplicate(id) => id,
        }
    }
}

/// Where an inbox entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InboxStatus {
    /// Waiting to be processed (or to be retried).
    Pending,
    /// Processed.
    Done,
    /// Given up on, with a reason.
    Dead,
}

impl InboxStatus {
    /// Stable text form used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxStatus::Pending => "pending",
            InboxStatus::Done => "done",
            InboxStatus::Dead => "dead",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => InboxStatus::Pending,
            "done" => InboxStatus::Done,
            "dead" => InboxStatus::Dead,
            _ => return None,
        })
    }
}

/// A stored webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxEntry {
    /// Storage id.
    pub id: i64,
    /// The source's name.
    pub source: String,
    /// De-duplication key.
    pub dedupe_key: String,
    /// Topic, when known.
    pub topic: Option<String>,
    /// Shop, when known.
    pub shop: Option<String>,
    /// When the platform says it happened.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Non-secret headers kept for decoding.
    pub meta: BTreeMap<String, String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Status.
    pub status: InboxStatus,
    /// Processing attempts so far (a claim counts as one).
    pub attempts: u32,
    /// When it may next be claimed.
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure, or the dead-letter reason.
    pub last_error: Option<String>,
}

impl InboxEntry {
    /// An entry as a store answers for a webhook just stored: pending, due at once, never
    /// tried; topic, shop, time and meta unknown (see [`InboxEntry::from_verified`]).
    pub fn new(
        id: i64,
        source: impl Into<String>,
        dedupe_key: impl Into<String>,
        body: Vec<u8>,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            source: source.into(),
            dedupe_key: dedupe_key.into(),
            topic: None,
            shop: None,
            occurred_at: None,
            meta: BTreeMap::new(),
            body,
            received_at,
            status: InboxStatus::Pending,
            attempts: 0,
            next_attempt_at: received_at,
            last_error: None,
        }
    }

    /// The entry of a verified webhook: its de-duplication key, topic, shop, time and meta
    /// as the source found them.
    pub fn from_verified(
        id: i64,
        source: impl Into<String>,
        verified: VerifiedWebhook,
        body: Vec<u8>,
        received_at: DateTime<Utc>,
    ) -> Self {
        let mut e = Self::new(id, source, verified.dedupe_key, body, received_at);
        e.topic = verified.topic;
        e.shop = verified.shop;
        e.occurred_at = verified.occurred_at;
        e.meta = verified.meta;
        e
    }
}

/// Verified webhooks, stored before they are acknowledged, de-duplicated, processed later.
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Stores a webhook unless it is a duplicate, and then answers with the stored one's id.
    /// Two rules, both kept by every backend exactly, also when several processes insert
    /// at once:
    ///
    /// - **Same source and de-duplication key**, forever (as long as the row exists).
    /// - **Same content** ([`NewInboxEntry::content_key`]: source, topic and raw body) as a
    ///   stored webhook received at or after [`NewInboxEntry::content_since`]. The
    ///   de-duplication key comes from an unsigned header (Shopify's
    ///   `X-Shopify-Webhook-Id`): without this rule a validly signed body posted again
    ///   under a fresh id would be stored, and processed, again.
    ///
    /// A duplicate by key is answered with that key's row; one by content with the latest
    /// stored webhook of that content (the first rule wins when both apply).
    ///
    /// A stored webhook deleted (retention, redaction) no longer makes anything a
    /// duplicate. Webhooks stored before a backend learnt the content rule have no content
    /// key and count for the first rule only.
    async fn insert(&self, entry: NewInboxEntry) -> Result<InboxInsert, Error>;

    /// Claims up to `limit` pending entries due at `now`, oldest first: each claim counts as
    /// an attempt and hides the entry until `now + lease`, after which it is claimed again
    /// unless completed, rescheduled or dead-lettered.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<InboxEntry>, Error>;

    /// Marks an entry processed.
    async fn complete(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error>;

    /// Marks several entries processed. The default calls [`Inbox::complete`] for each;
    /// stores override it to do it in one statement (one commit for a processor's batch).
    async fn complete_many(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), Error> {
        for id in ids {
            self.complete(*id, now).await?;
        }
        Ok(())
    }

    /// Leaves an entry pending, to be claimed again at `at`, with the failure recorded.
    async fn retry_at(&self, id: i64, at: DateTime<Utc>, error: &str) -> Result<(), Error>;

    /// Gives up on an entry, with the reason.
    async fn dead_letter(&self, id: i64, reason: &str) -> Result<(), Error>;

    /// One entry.
    async fn inbox_entry(&self, id: i64) -> Result<Option<InboxEntry>, Error>;

    /// Dead-lettered entries, newest first.
    async fn dead_letters(&self, limit: u32) -> Result<Vec<InboxEntry>, Error>;

    /// Puts a dead-lettered entry back in the queue (an operator's decision). Returns
    /// whether it was dead.
    async fn requeue(&self, id: i64, at: DateTime<Utc>) -> Result<bool, Error>;
}

// ---------------------------------------------------------------- outbox

/// A message to send, with the key that makes it unique and the time it is due.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewOutboxMessage {
    /// At most one message is ever enqueued per key, e.g.
    /// `tracking:{order}:{shipment}:{milestone}:{channel}`.
    pub key: String,
    /// The message.
    pub message: OutboundMessage,
    /// When it should go (the dispatcher may defer it further, e.g. for quiet hours).
    pub due_at: DateTime<Utc>,
    /// Why it is enqueued, for the ledger.
    pub reason: String,
}

impl NewOutboxMessage {
    /// A message due at `due_at`.
    pub fn new(
        key: impl Into<String>,
        message: OutboundMessage,
        due_at: DateTime<Utc>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            message,
            due_at,
            reason: reason.into(),
        }
    }
}

/// The outcome of enqueuing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueue {
    /// Enqueued, with this id.
    New(i64),
    /// A message with this key exists already (id); nothing was enqueued, and the ledger
    /// says why.
    Duplicate(i64),
}

impl Enqueue {
    /// The message's id, new or existing.
    pub fn id(self) -> i64 {
        match self {
            Enqueue::New(id) | Enqueue::Duplicate(id) => id,
        }
    }
}

/// Where an outbox message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutboxStatus {
    /// Waiting for its due time.
    Pending,
    /// Claimed by a dispatcher; the request may be in flight.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// Not sent, on purpose (no consent, superseded...).
    Skipped,
    /// Failed for good.
    Dead,
    /// The request may have been sent; not retried automatically. Resolved later by
    /// [`Outbox::resolve_uncertain`] (see [`crate::uncertain`]).
    Uncertain,
    /// Was uncertain, and could not be confirmed: closed without sending again, with the
    /// reason.
    Abandoned,
}

impl OutboxStatus {
    /// Stable text form used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Skipped => "skipped",
            OutboxStatus::Dead => "dead",
            OutboxStatus::Uncertain => "uncertain",
            OutboxStatus::Abandoned => "abandoned",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => OutboxStatus::Pending,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "skipped" => OutboxStatus::Skipped,
            "dead" => OutboxStatus::Dead,
            "uncertain" => OutboxStatus::Uncertain,
            "abandoned" => OutboxStatus::Abandoned,
            _ => return None,
        })
    }
}

/// A stored outbox message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxEntry {
    /// Storage id.
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// The message.
    pub message: OutboundMessage,
    /// Status.
    pub status: OutboxStatus,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// Send attempts so far (claims).
    pub attempts: u32,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// The provider's receipt, once sent.
    pub receipt: Option<Receipt>,
    /// The last failure or skip reason.
    pub last_error: Option<String>,
}

impl OutboxEntry {
    /// A stored message without a receipt or error yet (set those fields after).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: i64,
        key: impl Into<String>,
        message: OutboundMessage,
        status: OutboxStatus,
        due_at: DateTime<Utc>,
        attempts: u32,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            key: key.into(),
            message,
            status,
            due_at,
            attempts,
            created_at,
            receipt: None,
            last_error: None,
        }
    }
}

/// How an `uncertain` message is resolved ([`Outbox::resolve_uncertain`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolution {
    /// The provider has it after all: `sent`, with its receipt. Ledger row
    /// [`Decision::Reconciled`].
    Sent(Receipt),
    /// Sent again: back to `pending`, due at this time. Ledger row [`Decision::Resending`].
    /// The one exception to "at most once per key"; the ledger says so.
    Resend(DateTime<Utc>),
    /// Closed without sending again: `abandoned`. Ledger row [`Decision::Abandoned`].
    Abandon,
}

impl Resolution {
    /// The ledger row a store writes with this resolution.
    pub fn decision(&self) -> Decision {
        match self {
            Resolution::Sent(_) => Decision::Reconciled,
            Resolution::Resend(_) => Decision::Resending,
            Resolution::Abandon => Decision::Abandoned,
        }
    }

    /// The status the message moves to.
    pub fn status(&self) -> OutboxStatus {
        match self {
            Resolution::Sent(_) => OutboxStatus::Sent,
            Resolution::Resend(_) => OutboxStatus::Pending,
            Resolution::Abandon => OutboxStatus::Abandoned,
        }
    }
}

/// The store-independent rules every backend applies, so each keeps only its SQL: what
/// [`Outbox::finish`] may end a message as, and how a stored enum's text is read back.
pub mod rules {
    use super::{Decision, OutboxStatus};
    use crate::Error;

    /// The ledger decision of [`Outbox::finish`](super::Outbox::finish) ending a message
    /// as `status`: only skipped, uncertain or dead are endings `finish` makes.
    pub fn finish_decision(status: OutboxStatus) -> Result<Decision, Error> {
        match status {
            OutboxStatus::Skipped => Ok(Decision::Skipped),
            OutboxStatus::Uncertain => Ok(Decision::Uncertain),
            OutboxStatus::Dead => Ok(Decision::DeadLettered),
            other => Err(Error::Config(format!(
                "finish() ends a message as skipped, dead or uncertain, not `{}`",
                other.as_str()
            ))),
        }
    }

    /// A stored enum's text read back (`parsed` is its `parse`): an unknown value is a
    /// decode error naming `what` and the text.
    pub fn stored<T>(what: &str, parsed: Option<T>, raw: &str) -> Result<T, Error> {
        parsed.ok_or_else(|| {
            Error::decode(format!("stored {what}"), format!("unknown value `{raw}`"))
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn finish_ends_only_as_skipped_uncertain_or_dead() {
            for s in [
                OutboxStatus::Skipped,
                OutboxStatus::Uncertain,
                OutboxStatus::Dead,
            ] {
                assert!(finish_decision(s).is_ok(), "{s:?}");
            }
            for s in [
                OutboxStatus::Pending,
                OutboxStatus::Sending,
                OutboxStatus::Sent,
            ] {
                assert!(finish_decision(s).is_err(), "{s:?}");
            }
            assert!(
                stored("channel", None::<u8>, "pigeon")
                    .is_err_and(|e| e.to_string().contains("pigeon"))
            );
        }
    }
}

/// An `uncertain` message, and since when ([`Outbox::uncertain_before`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UncertainEntry {
    /// The message.
    pub entry: OutboxEntry,
    /// When it became uncertain: the time of its latest `uncertain` ledger row (its
    /// `created_at` if there is none).
    pub since: DateTime<Utc>,
}

impl UncertainEntry {
    /// A message uncertain since `since`.
    pub fn new(entry: OutboxEntry, since: DateTime<Utc>) -> Self {
        Self { entry, since }
    }
}

/// A claimed outbox message, with the token that proves the claim.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claimed {
    /// The message.
    pub entry: OutboxEntry,
    /// The attempt number of this claim; state changes name it, and are refused once
    /// another claim has taken over.
    pub attempt: u32,
    /// The message was still `sending` under an expired claim: its request was in flight
    /// when a dispatcher crashed, so it may have been sent already.
    pub recovered: bool,
}

impl Claimed {
    /// `entry` claimed for its attempt `attempt`; `recovered` when it was taken over from
    /// an expired claim while `sending`.
    pub fn new(entry: OutboxEntry, attempt: u32, recovered: bool) -> Self {
        Self {
            entry,
            attempt,
            recovered,
        }
    }
}

/// A send to record with [`Outbox::mark_sent_many`]: the arguments of one
/// [`Outbox::mark_sent`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentRecord {
    /// The message.
    pub id: i64,
    /// The attempt of the claim it was sent under.
    pub attempt: u32,
    /// The provider's receipt.
    pub receipt: Receipt,
    /// The ledger row's reason.
    pub reason: String,
}

impl SentRecord {
    /// Message `id`, sent under its claim `attempt`, with the provider's receipt.
    pub fn new(id: i64, attempt: u32, receipt: Receipt, reason: impl Into<String>) -> Self {
        Self {
            id,
            attempt,
            receipt,
            reason: reason.into(),
        }
    }
}

/// Messages waiting to be sent, each at most once per key.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Enqueues a message unless its key is taken; writes the ledger row either way
    /// (`enqueued`, or `skipped` as a duplicate).
    async fn enqueue(&self, msg: NewOutboxMessage, now: DateTime<Utc>) -> Result<Enqueue, Error>;

    /// Enqueues several messages, answering for each as [`Outbox::enqueue`] does, in order.
    /// The default calls `enqueue` for each; stores override it to write a batch in one
    /// transaction (all or none of it).
    async fn enqueue_many(
        &self,
        msgs: Vec<NewOutboxMessage>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueue>, Error> {
        let mut out = Vec::with_capacity(msgs.len());
        for m in msgs {
            out.push(self.enqueue(m, now).await?);
        }
        Ok(out)
    }

    /// Claims up to `limit` messages due at `now` (and messages whose earlier claim expired
    /// while `sending`, flagged [`Claimed::recovered`]), marking them `sending` until
    /// `now + lease`.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Claimed>, Error>;

    /// Records a send. Returns `false` (and changes nothing) if the claim was lost.
    async fn mark_sent(
        &self,
        id: i64,
        attempt: u32,
        receipt: &Receipt,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, Error>;

    /// Records several sends, answering for each as [`Outbox::mark_sent`] does, in order:
    /// `false` (and nothing changed for it) where the claim was lost. The default calls
    /// `mark_sent` for each; stores override it to record them in one transaction (all of
    /// them or none: a crash before its commit leaves every one `sending`, to be recovered
    /// when its claim expires, as a crash just after a single send does).
    async fn mark_sent_many(
        &self,
        sends: &[SentRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, Error> {
        let mut out = Vec::with_capacity(sends.len());
        for s in sends {
            out.push(
                self.mark_sent(s.id, s.attempt, &s.receipt, now, &s.reason)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Puts a claimed message back to `pending`, due at `due_at`, with a ledger row of
    /// `decision` (usually [`Decision::Deferred`] or [`Decision::Retrying`]).
    async fn reschedule(
        &self,
        id: i64,
        attempt: u32,
        due_at: DateTime<Utc>,
        decision: Decision,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error>;

    /// Ends a claimed message without sending: `Skipped`, `Dead` or `Uncertain`, with the
    /// matching ledger row.
    async fn finish(
        &self,
        id: i64,
        attempt: u32,
        status: OutboxStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error>;

    /// Messages `uncertain` since before `before` (strictly), longest uncertain first.
    async fn uncertain_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UncertainEntry>, Error>;

    /// Resolves an `uncertain` message as `resolution` says, writing its ledger row (with
    /// `reason`) in the same transaction. Returns `false` (and changes nothing) if the
    /// message is not uncertain (any more): resolutions racing each other, one wins.
    async fn resolve_uncertain(
        &self,
        id: i64,
        resolution: &Resolution,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error>;

    /// One message.
    async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, Error>;

    /// The message with this key.
    async fn outbox_by_key(&self, key: &str) -> Result<Option<OutboxEntry>, Error>;

    /// The message a provider knows by `provider_message_id` (its [`Receipt`]'s id), for
    /// delivery reports.
    async fn outbox_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<OutboxEntry>, Error>;

    /// Messages in a status, oldest first.
    async fn outbox_in(&self, status: OutboxStatus, limit: u32) -> Result<Vec<OutboxEntry>, Error>;

    /// The message most recently sent to `address` on `channel` whose key starts with
    /// `key_prefix` (e.g. the survey invitation a reply answers).
    async fn latest_sent_to(
        &self,
        channel: ChannelKind,
        address: &str,
        key_prefix: &str,
    ) -> Result<Option<OutboxEntry>, Error>;
}

// ---------------------------------------------------------------- ledger

/// What was decided about a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Decision {
    /// Put in the outbox.
    Enqueued,
    /// Accepted by the provider.
    Sent,
    /// Postponed on purpose (quiet hours, rate limit).
    Deferred,
    /// Failed transiently; will be tried again.
    Retrying,
    /// Not sent on purpose (no consent, duplicate, superseded).
    Skipped,
    /// Failed for good.
    DeadLettered,
    /// May have been sent; not retried automatically.
    Uncertain,
    /// The provider reports it reached the recipient (delivered, or read).
    Delivered,
    /// The provider reports it could not be delivered after accepting it.
    Undelivered,
    /// Was uncertain; the provider's records (or a delivery report naming it) show it was
    /// sent.
    Reconciled,
    /// Was uncertain and could not be confirmed; sent again because a duplicate is better
    /// than silence for its purpose.
    Resending,
    /// Was uncertain and could not be confirmed; not sent again because a duplicate would be
    /// worse than silence for its purpose.
    Abandoned,
    /// The mailbox provider refused the email after the provider accepted it (a hard or
    /// soft bounce; the reason says which).
    Bounced,
    /// The recipient marked the email as spam (a feedback-loop complaint).
    Complained,
}

impl Decision {
    /// Every decision, in the order a message meets them (for tallies).
    pub const ALL: [Decision; 14] = [
        Decision::Enqueued,
        Decision::Deferred,
        Decision::Retrying,
        Decision::Sent,
        Decision::Skipped,
        Decision::DeadLettered,
        Decision::Uncertain,
        Decision::Reconciled,
        Decision::Resending,
        Decision::Abandoned,
        Decision::Delivered,
        Decision::Undelivered,
        Decision::Bounced,
        Decision::Complained,
    ];

    /// Stable text form used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Enqueued => "enqueued",
            Decision::Sent => "sent",
            Decision::Deferred => "deferred",
            Decision::Retrying => "retrying",
            Decision::Skipped => "skipped",
            Decision::DeadLettered => "dead_lettered",
            Decision::Uncertain => "uncertain",
            Decision::Delivered => "delivered",
            Decision::Undelivered => "undelivered",
            Decision::Reconciled => "reconciled",
            Decision::Resending => "resending",
            Decision::Abandoned => "abandoned",
            Decision::Bounced => "bounced",
            Decision::Complained => "complained",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "enqueued" => Decision::Enqueued,
            "sent" => Decision::Sent,
            "deferred" => Decision::Deferred,
            "retrying" => Decision::Retrying,
            "skipped" => Decision::Skipped,
            "dead_lettered" => Decision::DeadLettered,
            "uncertain" => Decision::Uncertain,
            "delivered" => Decision::Delivered,
            "undelivered" => Decision::Undelivered,
            "reconciled" => Decision::Reconciled,
            "resending" => Decision::Resending,
            "abandoned" => Decision::Abandoned,
            "bounced" => Decision::Bounced,
            "complained" => Decision::Complained,
            _ => return None,
        })
    }
}

/// One row of the ledger: a decision about a message and its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LedgerEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The message's idempotency key, when there is a message.
    pub key: Option<String>,
    /// The shop.
    pub shop: Option<ShopId>,
    /// The order it concerns.
    pub order_id: Option<OrderId>,
    /// The customer.
    pub customer_id: Option<CustomerId>,
    /// The channel.
    pub channel: Option<ChannelKind>,
    /// What was decided.
    pub decision: Decision,
    /// Why, in words an operator understands.
    pub reason: String,
}

impl LedgerEntry {
    /// A ledger row about a message that was never enqueued (e.g. skipped before the
    /// outbox for lack of consent).
    pub fn new(at: DateTime<Utc>, decision: Decision, reason: impl Into<String>) -> Self {
        Self {
            at,
            key: None,
            shop: None,
            order_id: None,
            customer_id: None,
            channel: None,
            decision,
            reason: reason.into(),
        }
    }

    /// A ledger row about a message.
    pub fn for_message(
        at: DateTime<Utc>,
        key: &str,
        message: &OutboundMessage,
        decision: Decision,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            at,
            key: Some(key.to_owned()),
            shop: message.shop.clone(),
            order_id: message.order_id.clone(),
            customer_id: message.customer_id.clone(),
            channel: Some(message.channel),
            decision,
            reason: reason.into(),
        }
    }
}

/// Why each message was sent, deferred or skipped.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// Records a decision made outside the outbox's own transitions.
    async fn record(&self, entry: LedgerEntry) -> Result<(), Error>;

    /// Every row about an order, oldest first.
    async fn ledger_for_order(&self, order: &OrderId) -> Result<Vec<LedgerEntry>, Error>;

    /// Every row about a message key, oldest first.
    async fn ledger_for_key(&self, key: &str) -> Result<Vec<LedgerEntry>, Error>;
}

// ---------------------------------------------------------------- consent

/// The hash under which an address is stored in the consent store: SHA-256 of the trimmed,
/// lower-cased address, hex. Opt-outs stay enforceable after a customer is erased, without
/// keeping the address itself.
///
/// ```
/// use aftercare::store::address_hash;
/// assert_eq!(address_hash(" Jane@Example.com "), address_hash("jane@example.com"));
/// ```
pub fn address_hash(address: &str) -> String {
    hex::encode(Sha256::digest(address.trim().to_lowercase().as_bytes()))
}

/// A consent decision for an address on a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentRecord {
    /// The channel.
    pub channel: ChannelKind,
    /// [`address_hash`] of the phone number or email address.
    pub address_hash: String,
    /// The purpose, or `None` for every purpose (a STOP reply).
    pub purpose: Option<Purpose>,
    /// Granted or denied.
    pub state: ConsentState,
    /// Where it came from (`reply:STOP`, `provider:21610`, `shopify`).
    pub source: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl ConsentRecord {
    /// A record for a clear-text address (hashed here).
    pub fn new(
        channel: ChannelKind,
        address: &str,
        purpose: Option<Purpose>,
        state: ConsentState,
        source: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            channel,
            address_hash: address_hash(address),
            purpose,
            state,
            source: source.into(),
            at,
        }
    }
}

/// Opt-ins and opt-outs, per channel and address.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// Records a decision (the latest per channel, address and purpose is kept).
    async fn set_consent(&self, record: ConsentRecord) -> Result<(), Error>;

    /// The decision in force for a purpose: the most recent of the rows for that purpose
    /// and for every purpose. `None` when nothing is recorded.
    async fn consent(
        &self,
        channel: ChannelKind,
        address: &str,
        purpose: Purpose,
    ) -> Result<Option<ConsentRecord>, Error>;
}

// ---------------------------------------------------------------- surveys

/// Survey invitations and answers.
#[async_trait]
pub trait SurveyStore: Send + Sync {
    /// Stores an invitation; `false` if its id exists.
    async fn save_invitation(&self, invitation: &Invitation) -> Result<bool, Error>;

    /// One invitation.
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, Error>;

    /// Stores the final answer to an invitation; `false` (and nothing changes) if it was
    /// answered already: a double submission counts once.
    async fn record_response(&self, response: &SurveyResponse) -> Result<bool, Error>;

    /// A customer's invitations created at or after `since`, newest first.
    async fn invitations_for_customer(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Invitation>, Error>;

    /// The answer to an invitation, if it was answered.
    async fn response(&self, invitation_id: &str) -> Result<Option<SurveyResponse>, Error>;

    /// Answers given in `[from, to)`, oldest first.
    async fn responses_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyResponse>, Error>;

    /// Keeps a reply as a comment, never a score: one that came after the survey closed, or
    /// one that cannot be scored without a guess (two numbers, "3 or 4"). Storing
    /// the same comment (same invitation, time and text) again changes nothing, so a reply
    /// processed twice is kept once.
    async fn add_comment(
        &self,
        invitation_id: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Error>;

    /// The comments kept for an invitation, oldest first.
    async fn comments(&self, invitation_id: &str) -> Result<Vec<SurveyComment>, Error>;
}

/// A reply kept as a comment on an invitation (see [`SurveyStore::add_comment`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SurveyComment {
    /// When it was received.
    pub at: DateTime<Utc>,
    /// What the customer wrote.
    pub text: String,
}

impl SurveyComment {
    /// A comment written at `at`.
    pub fn new(at: DateTime<Utc>, text: impl Into<String>) -> Self {
        Self {
            at,
            text: text.into(),
        }
    }
}

// ---------------------------------------------------------------- snapshots

/// The latest known state of an order, shipment or customer, as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// What it is (`order`, `shipment`, `customer`).
    pub kind: String,
    /// The shop.
    pub shop: Option<ShopId>,
    /// The platform's id.
    pub id: String,
    /// When the platform says this state is from (`updated_at`).
    pub version: DateTime<Utc>,
    /// The state, serialized (`Order`, `Shipment`, `Customer` as JSON).
    pub data: serde_json::Value,
}

impl Snapshot {
    /// A state of `kind` `id`, from `version`.
    pub fn new(
        kind: impl Into<String>,
        shop: Option<ShopId>,
        id: impl Into<String>,
        version: DateTime<Utc>,
        data: serde_json::Value,
    ) -> Self {
        Self {
            kind: kind.into(),
            shop,
            id: id.into(),
            version,
            data,
        }
    }
}

/// Latest-state storage that never goes backwards: webhooks arrive out of order, so a
/// state older than the stored one is refused.
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// Stores `snapshot` if there is none for its kind and id, or if it is at least as new
    /// as the stored one. Returns whether it was stored.
    async fn put_if_newer(&self, snapshot: &Snapshot) -> Result<bool, Error>;

    /// [`SnapshotStore::put_if_newer`] with the snapshot given away: a store that keeps
    /// it (a batch's stage, until its commit) takes it without a copy of its document.
    async fn put_if_newer_owned(&self, snapshot: Snapshot) -> Result<bool, Error> {
        self.put_if_newer(&snapshot).await
    }

    /// The stored state, if any.
    async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error>;
}

// ---------------------------------------------------------------- privacy

/// A request to erase a customer's personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomerRedaction {
    /// The shop.
    pub shop: Option<ShopId>,
    /// The customer.
    pub customer_id: Option<CustomerId>,
    /// Their addresses (email, phone) as the platform gives them.
    pub addresses: Vec<String>,
    /// Their orders.
    pub orders: Vec<OrderId>,
}

impl CustomerRedaction {
    /// A request for one customer of one shop, with their addresses and orders.
    pub fn new(
        shop: Option<ShopId>,
        customer_id: Option<CustomerId>,
        addresses: Vec<String>,
        orders: Vec<OrderId>,
    ) -> Self {
        Self {
            shop,
            customer_id,
            addresses,
            orders,
        }
    }
}

/// What a redaction removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedactionReport {
    /// Stored webhooks deleted.
    pub inbox_deleted: u64,
    /// Outbox messages deleted.
    pub outbox_deleted: u64,
    /// Survey answers anonymised (score kept, person and comment gone).
    pub responses_anonymised: u64,
    /// Consent grants deleted (opt-outs are kept, hashed, so they stay honoured).
    pub consents_deleted: u64,
    /// Order, shipment and customer snapshots deleted.
    pub snapshots_deleted: u64,
    /// Comments kept from late replies deleted.
    pub comments_deleted: u64,
    /// Invitations that lost their customer id (retention; see [`Redactor::expire`]).
    pub invitations_anonymised: u64,
}

/// Erasure of personal data, for privacy requests.
#[async_trait]
pub trait Redactor: Send + Sync {
    /// Erases a customer's data: webhooks that mention their addresses, their messages,
    /// their consent grants, the snapshots of the customer (`customer`, `customer-orders`)
    /// and of the orders named (`order`, `order-shipments`, `order-number` whose data is one
    /// of those orders, and every `shipment` whose data's `order_id` is one of them); their
    /// survey answers lose person and comment, keep the score.
    async fn redact_customer(&self, request: &CustomerRedaction) -> Result<RedactionReport, Error>;

    /// Erases everything stored for a shop.
    async fn redact_shop(&self, shop: &ShopId) -> Result<RedactionReport, Error>;

    /// Applies the retention period to data older than `before` (strictly):
    /// - survey answers lose customer id and comment, keep kind and score (statistics);
    ///   invitations lose the customer id (by `sent_at`);
    /// - processed inbox entries (done or dead), with their bodies, are deleted (by
    ///   `received_at`); pending ones stay;
    /// - finished outbox messages (sent, skipped, dead, uncertain, abandoned) are deleted (by
    ///   `created_at`); pending and sending ones stay. Their ledger rows stay but lose the
    ///   customer id, as do all ledger rows older than `before`;
    /// - comments kept from late replies are deleted (by their time);
    /// - consent records are left alone: opt-outs are hashed and must stay honoured.
    ///
    /// - snapshots whose state is older than `before` (by `version`) are deleted, except
    ///   survey facts ([`FACTS_SNAPSHOT`](crate::flows::feedback::FACTS_SNAPSHOT): no person
    ///   in them, the report's breakdowns). An order or shipment that changed since is kept.
    ///
    /// Idempotent: a second run with the same cutoff changes nothing.
    async fn expire(&self, before: DateTime<Utc>) -> Result<RedactionReport, Error>;
}

/// Every storage trait at once: what a backend provides.
pub trait Store:
    Inbox + Outbox + Ledger + ConsentStore + SurveyStore + SnapshotStore + Redactor + Send + Sync
{
}

impl<T> Store for T where
    T: Inbox
        + Outbox
        + Ledger
        + ConsentStore
        + SurveyStore
        + SnapshotStore
        + Redactor
        + Send
        + Sync
{
}
