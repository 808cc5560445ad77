//! [`ShopStore`]: a shop's store as a concrete type (what `Stack::builder` and the flows
//! take), obtainable only from a [`ShopScope`](super::ShopScope).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Error;
use crate::model::{
    ChannelKind, CustomerId, Invitation, OrderId, Purpose, Receipt, ShopId, SurveyResponse,
};
use crate::store::{
    Claimed, ConsentRecord, ConsentStore, CustomerRedaction, Decision, Enqueue, Inbox, InboxEntry,
    InboxInsert, Ledger, LedgerEntry, NewInboxEntry, NewOutboxMessage, Outbox, OutboxEntry,
    OutboxStatus, RedactionReport, Redactor, Resolution, SentRecord, Snapshot, SnapshotStore,
    Store, SurveyComment, SurveyStore, UncertainEntry,
};

/// One shop's store. Every call goes to that shop's own store (its schema, its file); there
/// is no public constructor: [`ShopScope::store`](super::ShopScope::store) hands it out.
#[derive(Clone)]
pub struct ShopStore {
    shop: ShopId,
    inner: Arc<dyn Store>,
}

impl std::fmt::Debug for ShopStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopStore")
            .field("shop", &self.shop)
            .finish_non_exhaustive()
    }
}

impl ShopStore {
    pub(super) fn new(shop: ShopId, inner: Arc<dyn Store>) -> Self {
        Self { shop, inner }
    }

    /// The shop whose store this is.
    pub fn shop(&self) -> &ShopId {
        &self.shop
    }
}

#[async_trait]
impl Inbox for ShopStore {
    async fn insert(&self, entry: NewInboxEntry) -> Result<InboxInsert, Error> {
        self.inner.insert(entry).await
    }
    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<InboxEntry>, Error> {
        self.inner.claim(now, limit, lease).await
    }
    async fn complete(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        self.inner.complete(id, now).await
    }
    // The batched calls are forwarded too: the provided defaults would turn a shop's batch
    // back into one call per row.
    async fn complete_many(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), Error> {
        self.inner.complete_many(ids, now).await
    }
    async fn retry_at(&self, id: i64, at: DateTime<Utc>, error: &str) -> Result<(), Error> {
        self.inner.retry_at(id, at, error).await
    }
    async fn dead_letter(&self, id: i64, reason: &str) -> Result<(), Error> {
        self.inner.dead_letter(id, reason).await
    }
    async fn inbox_entry(&self, id: i64) -> Result<Option<InboxEntry>, Error> {
        self.inner.inbox_entry(id).await
    }
    async fn dead_letters(&self, limit: u32) -> Result<Vec<InboxEntry>, Error> {
        self.inner.dead_letters(limit).await
    }
    async fn requeue(&self, id: i64, at: DateTime<Utc>) -> Result<bool, Error> {
        self.inner.requeue(id, at).await
    }
}

#[async_trait]
impl Outbox for ShopStore {
    async fn enqueue(&self, msg: NewOutboxMessage, now: DateTime<Utc>) -> Result<Enqueue, Error> {
        self.inner.enqueue(msg, now).await
    }
    async fn enqueue_many(
        &self,
        msgs: Vec<NewOutboxMessage>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Enqueue>, Error> {
        self.inner.enqueue_many(msgs, now).await
    }
    async fn mark_sent_many(
        &self,
        sends: &[SentRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, Error> {
        self.inner.mark_sent_many(sends, now).await
    }
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Claimed>, Error> {
        self.inner.claim_due(now, limit, lease).await
    }
    async fn mark_sent(
        &self,
        id: i64,
        attempt: u32,
        receipt: &Receipt,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, Error> {
        self.inner
            .mark_sent(id, attempt, receipt, now, reason)
            .await
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
        self.inner
            .reschedule(id, attempt, due_at, decision, reason, now)
            .await
    }
    async fn finish(
        &self,
        id: i64,
        attempt: u32,
        status: OutboxStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        self.inner.finish(id, attempt, status, reason, now).await
    }
    async fn uncertain_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UncertainEntry>, Error> {
        self.inner.uncertain_before(before, limit).await
    }
    async fn resolve_uncertain(
        &self,
        id: i64,
        resolution: &Resolution,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        self.inner
            .resolve_uncertain(id, resolution, reason, now)
            .await
    }
    async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, Error> {
        self.inner.outbox_entry(id).await
    }
    async fn outbox_by_key(&self, key: &str) -> Result<Option<OutboxEntry>, Error> {
        self.inner.outbox_by_key(key).await
    }
    async fn outbox_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<OutboxEntry>, Error> {
        self.inner.outbox_by_provider_id(provider_message_id).await
    }
    async fn outbox_in(&self, status: OutboxStatus, limit: u32) -> Result<Vec<OutboxEntry>, Error> {
        self.inner.outbox_in(status, limit).await
    }
    async fn latest_sent_to(
        &self,
        channel: ChannelKind,
        address: &str,
        key_prefix: &str,
    ) -> Result<Option<OutboxEntry>, Error> {
        self.inner
            .latest_sent_to(channel, address, key_prefix)
            .await
    }
}

#[async_trait]
impl Ledger for ShopStore {
    async fn record(&self, entry: LedgerEntry) -> Result<(), Error> {
        self.inner.record(entry).await
    }
    async fn ledger_for_order(&self, order: &OrderId) -> Result<Vec<LedgerEntry>, Error> {
        self.inner.ledger_for_order(order).await
    }
    async fn ledger_for_key(&self, key: &str) -> Result<Vec<LedgerEntry>, Error> {
        self.inner.ledger_for_key(key).await
    }
}

#[async_trait]
impl ConsentStore for ShopStore {
    async fn set_consent(&self, record: ConsentRecord) -> Result<(), Error> {
        self.inner.set_consent(record).await
    }
    async fn consent(
        &self,
        channel: ChannelKind,
        address: &str,
        purpose: Purpose,
    ) -> Result<Option<ConsentRecord>, Error> {
        self.inner.consent(channel, address, purpose).await
    }
}

#[async_trait]
impl SurveyStore for ShopStore {
    async fn save_invitation(&self, invitation: &Invitation) -> Result<bool, Error> {
        self.inner.save_invitation(invitation).await
    }
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, Error> {
        self.inner.invitation(id).await
    }
    async fn record_response(&self, response: &SurveyResponse) -> Result<bool, Error> {
        self.inner.record_response(response).await
    }
    async fn invitations_for_customer(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Invitation>, Error> {
        self.inner.invitations_for_customer(customer, since).await
    }
    async fn response(&self, invitation_id: &str) -> Result<Option<SurveyResponse>, Error> {
        self.inner.response(invitation_id).await
    }
    async fn responses_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyResponse>, Error> {
        self.inner.responses_between(from, to).await
    }
    async fn add_comment(
        &self,
        invitation_id: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.inner.add_comment(invitation_id, text, at).await
    }
    async fn comments(&self, invitation_id: &str) -> Result<Vec<SurveyComment>, Error> {
        self.inner.comments(invitation_id).await
    }
}

#[async_trait]
impl SnapshotStore for ShopStore {
    async fn put_if_newer(&self, snapshot: &Snapshot) -> Result<bool, Error> {
        self.inner.put_if_newer(snapshot).await
    }
    async fn put_if_newer_owned(&self, snapshot: Snapshot) -> Result<bool, Error> {
        self.inner.put_if_newer_owned(snapshot).await
    }
    async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
        self.inner.snapshot(kind, id).await
    }
}

#[async_trait]
impl Redactor for ShopStore {
    async fn redact_customer(&self, request: &CustomerRedaction) -> Result<RedactionReport, Error> {
        self.inner.redact_customer(request).await
    }
    async fn redact_shop(&self, shop: &ShopId) -> Result<RedactionReport, Error> {
        self.inner.redact_shop(shop).await
    }
    async fn expire(&self, before: DateTime<Utc>) -> Result<RedactionReport, Error> {
        self.inner.expire(before).await
    }
}
