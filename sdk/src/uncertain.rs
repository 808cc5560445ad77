//! Resolving messages left uncertain: a send that timed out after its request was written
//! ("may have been sent") leaves the message `uncertain`, and the dispatcher does not send
//! it again blindly. [`UncertainResolver`] gives every such message an end:
//!
//! 1. **Reconciled** when the provider can be asked: the channel's
//!    [`find_sent`](crate::channel::MessageChannel::find_sent) looks the message up (Twilio's
//!    message list); found, it becomes `sent` with the provider's id, ledger row
//!    [`Decision::Reconciled`], and a delivery the provider already reports is written too.
//!    A delivery report that names the message (a WhatsApp status carrying its key, a Twilio
//!    status callback to its recipient that a look-up confirms) does the same as soon as it
//!    arrives: [`DeliveryReports`].
//! 2. Otherwise, once it has been uncertain for the [`UncertainPolicy`]'s time for its
//!    [`Purpose`]: **resent** (back to `pending`, ledger row [`Decision::Resending`] saying
//!    why — the one documented exception to "at most once per key", and only once per key) or
//!    **abandoned** (ledger row [`Decision::Abandoned`] with the reason).
//!
//! Defaults, safe: after 15 minutes, transactional messages (tracking updates, delivery
//! exceptions, failed attempts) are resent — a duplicate is harmless and silence is not —,
//! feedback and marketing messages are abandoned: a second survey invitation or promotion is
//! worse than none. A look-up that fails is tried again at each sweep for an hour before
//! the purpose's rule applies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::channel::{Lookup, MessageChannel};
use crate::clock::Clock;
use crate::flows::delivery::DeliveryReports;
use crate::model::{ChannelKind, Purpose};
use crate::store::{
    Decision, Ledger, LedgerEntry, Outbox, OutboxEntry, Resolution, UncertainEntry,
};

/// What becomes of an uncertain message that the provider cannot confirm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Send it again (once per key): a duplicate is better than silence.
    Resend,
    /// Close it as `abandoned`: a duplicate would be worse than silence.
    Abandon,
}

impl Action {
    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Resend => "resend",
            Action::Abandon => "abandon",
        }
    }
}

/// When and how an uncertain message of one purpose is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rule {
    /// How long it stays uncertain (waiting for a late delivery report) before the
    /// provider is asked and, failing that, `action` applies.
    pub after: Duration,
    /// What to do when the provider cannot confirm it.
    pub action: Action,
}

impl Rule {
    /// A rule.
    pub fn new(after: Duration, action: Action) -> Self {
        Self { after, action }
    }
}

/// The default wait before an uncertain message is resolved.
pub const DEFAULT_AFTER: Duration = Duration::from_secs(15 * 60);

/// The default time failed look-ups are retried before the purpose's rule applies anyway.
pub const DEFAULT_LOOKUP_RETRY: Duration = Duration::from_secs(60 * 60);

/// Per purpose, when and how uncertain messages are resolved.
///
/// ```
/// use std::time::Duration;
/// use aftercare::model::Purpose;
/// use aftercare::uncertain::{Action, Rule, UncertainPolicy};
/// let p = UncertainPolicy::default();
/// assert_eq!(p.rule_for(Purpose::Transactional).action, Action::Resend);
/// assert_eq!(p.rule_for(Purpose::Feedback).action, Action::Abandon);
/// let p = p.rule(Purpose::Feedback, Rule::new(Duration::from_secs(3600), Action::Resend));
/// assert_eq!(p.rule_for(Purpose::Feedback).after, Duration::from_secs(3600));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UncertainPolicy {
    rules: HashMap<Purpose, Rule>,
    lookup_retry: Duration,
}

impl Default for UncertainPolicy {
    /// Transactional: resend after 15 minutes. Feedback and marketing: abandon after 15
    /// minutes. Failed look-ups retried for an hour.
    fn default() -> Self {
        Self {
            rules: HashMap::from([
                (
                    Purpose::Transactional,
                    Rule::new(DEFAULT_AFTER, Action::Resend),
                ),
                (Purpose::Feedback, Rule::new(DEFAULT_AFTER, Action::Abandon)),
                (
                    Purpose::Marketing,
                    Rule::new(DEFAULT_AFTER, Action::Abandon),
                ),
            ]),
            lookup_retry: DEFAULT_LOOKUP_RETRY,
        }
    }
}

impl UncertainPolicy {
    /// Sets the rule of a purpose.
    pub fn rule(mut self, purpose: Purpose, rule: Rule) -> Self {
        self.rules.insert(purpose, rule);
        self
    }

    /// Sets how long failed look-ups are retried before the purpose's rule applies.
    pub fn lookup_retry(mut self, retry: Duration) -> Self {
        self.lookup_retry = retry;
        self
    }

    /// The rule of a purpose (a purpose without one: abandon after the default time).
    pub fn rule_for(&self, purpose: Purpose) -> Rule {
        self.rules
            .get(&purpose)
            .copied()
            .unwrap_or(Rule::new(DEFAULT_AFTER, Action::Abandon))
    }

    fn shortest(&self) -> Duration {
        self.rules
            .values()
            .map(|r| r.after)
            .min()
            .unwrap_or(DEFAULT_AFTER)
            .min(DEFAULT_AFTER)
    }
}

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolveReport {
    /// Found sent by the provider: now `sent`.
    pub reconciled: u32,
    /// Back to `pending`, to be sent again.
    pub resent: u32,
    /// Closed as `abandoned`.
    pub abandoned: u32,
    /// Left uncertain for now (too recent, or the look-up failed and is retried).
    pub waiting: u32,
}

/// Resolves uncertain messages: see the [module](self) documentation.
///
/// ```
/// # use std::sync::Arc;
/// # async fn demo<S: aftercare::store::Outbox + aftercare::store::Ledger + 'static>(
/// #     store: Arc<S>, sms: Arc<dyn aftercare::channel::MessageChannel>,
/// # ) -> Result<(), aftercare::Error> {
/// use aftercare::clock::SystemClock;
/// use aftercare::uncertain::{UncertainPolicy, UncertainResolver};
/// let resolver = UncertainResolver::new(store, Arc::new(SystemClock))
///     .channel(sms)
///     .policy(UncertainPolicy::default());
/// let report = resolver.sweep().await?;
/// println!("{} reconciled, {} resent, {} abandoned", report.reconciled, report.resent, report.abandoned);
/// # Ok(()) }
/// ```
pub struct UncertainResolver {
    outbox: Arc<dyn Outbox>,
    ledger: Arc<dyn Ledger>,
    channels: HashMap<ChannelKind, Arc<dyn MessageChannel>>,
    clock: Arc<dyn Clock>,
    policy: UncertainPolicy,
    batch: u32,
}

impl std::fmt::Debug for UncertainResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UncertainResolver")
            .field("channels", &self.channels.keys().collect::<Vec<_>>())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// What asking the provider gave.
enum Asked {
    Found(crate::channel::SentMessage),
    NotFound(String),
    Failed(String),
}

impl UncertainResolver {
    /// A resolver over a store's outbox and ledger, with the default policy and no channels
    /// (without a channel, nothing is looked up: the purpose's rule applies).
    pub fn new<S: Outbox + Ledger + 'static>(store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self {
            outbox: store.clone(),
            ledger: store,
            channels: HashMap::new(),
            clock,
            policy: UncertainPolicy::default(),
            batch: 500,
        }
    }

    /// Adds the channel to ask about its messages (the dispatcher's own channels).
    pub fn channel(mut self, channel: Arc<dyn MessageChannel>) -> Self {
        self.channels.insert(channel.kind(), channel);
        self
    }

    /// Sets the policy.
    pub fn policy(mut self, policy: UncertainPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets how many uncertain messages one sweep looks at (default 500).
    pub fn batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Resolves every message uncertain for longer than its purpose's time: reconciled if
    /// the provider has it, else resent or abandoned by its purpose's rule.
    pub async fn sweep(&self) -> Result<ResolveReport, Error> {
        let now = self.clock.now();
        let cutoff = now - to_chrono(self.policy.shortest());
        let mut report = ResolveReport::default();
        for u in self.outbox.uncertain_before(cutoff, self.batch).await? {
            let rule = self.policy.rule_for(u.entry.message.purpose);
            let age = now - u.since;
            if age < to_chrono(rule.after) {
                report.waiting += 1;
                continue;
            }
            match self.ask(&u.entry).await? {
                Asked::Found(found) => {
                    if self
                        .reconcile(&u.entry, found, "the provider's records show it")
                        .await?
                    {
                        report.reconciled += 1;
                    }
                }
                Asked::NotFound(why) => {
                    self.apply(&u, rule.action, &why, now, &mut report).await?;
                }
                Asked::Failed(why) => {
                    if age < to_chrono(rule.after + self.policy.lookup_retry) {
                        tracing::warn!(key = %u.entry.key, error = %why, "could not ask the provider about an uncertain message; trying again at the next sweep");
                        report.waiting += 1;
                    } else {
                        let why = format!("the provider could not be asked ({why})");
                        self.apply(&u, rule.action, &why, now, &mut report).await?;
                    }
                }
            }
        }
        Ok(report)
    }

    /// Asks the provider, now, about every uncertain message to `to` on `channel` (a
    /// delivery report for a message this store does not know arrived for that
    /// recipient), reconciling those it has. Nothing is resent or abandoned here. Returns
    /// how many were reconciled.
    pub async fn reconcile_recipient(&self, channel: ChannelKind, to: &str) -> Result<u32, Error> {
        if !self.channels.contains_key(&channel) {
            return Ok(0);
        }
        let now = self.clock.now();
        let to = bare(to);
        let mut n = 0;
        for u in self
            .outbox
            .uncertain_before(now + chrono::Duration::microseconds(1), self.batch)
            .await?
        {
            if u.entry.message.channel != channel || bare(&u.entry.message.to) != to {
                continue;
            }
            if let Asked::Found(found) = self.ask(&u.entry).await?
                && self
                    .reconcile(&u.entry, found, "a delivery report to its recipient led to the provider's records, which show it")
                    .await?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Runs [`UncertainResolver::sweep`] every `interval` until `shutdown` resolves.
    pub async fn run(&self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.sweep().await {
                Ok(r) if r.reconciled + r.resent + r.abandoned > 0 => tracing::info!(
                    reconciled = r.reconciled,
                    resent = r.resent,
                    abandoned = r.abandoned,
                    waiting = r.waiting,
                    "uncertain messages resolved"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "resolving uncertain messages failed"),
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    async fn ask(&self, entry: &OutboxEntry) -> Result<Asked, Error> {
        let kind = entry.message.channel;
        let Some(channel) = self.channels.get(&kind) else {
            return Ok(Asked::NotFound(format!(
                "no {kind} channel was given to look it up"
            )));
        };
        let found = match channel.find_sent(&entry.message, entry.created_at).await {
            Ok(Lookup::Found(found)) => found,
            Ok(Lookup::NotFound) => {
                return Ok(Asked::NotFound(format!(
                    "the provider has no record of it ({kind} look-up)"
                )));
            }
            Ok(Lookup::Unsupported) => {
                return Ok(Asked::NotFound(format!(
                    "the {kind} provider cannot be asked whether it was sent"
                )));
            }
            Err(e) => return Ok(Asked::Failed(e.to_string())),
        };
        // A match another message of ours already owns is not this one.
        for f in found {
            match self
                .outbox
                .outbox_by_provider_id(&f.receipt.provider_message_id)
                .await?
            {
                Some(other) if other.id != entry.id => continue,
                _ => return Ok(Asked::Found(f)),
            }
        }
        Ok(Asked::NotFound(format!(
            "every {kind} message the provider matched is another message's"
        )))
    }

    async fn reconcile(
        &self,
        entry: &OutboxEntry,
        found: crate::channel::SentMessage,
        how: &str,
    ) -> Result<bool, Error> {
        let now = self.clock.now();
        let id = &found.receipt.provider_message_id;
        let reason =
            format!("reconciled: {how} it was sent as {id} (the earlier attempt was uncertain)");
        if !self
            .outbox
            .resolve_uncertain(
                entry.id,
                &Resolution::Sent(found.receipt.clone()),
                &reason,
                now,
            )
            .await?
        {
            return Ok(false);
        }
        if let Some((decision, why)) = DeliveryReports::decision(&found.status) {
            self.ledger
                .record(LedgerEntry::for_message(
                    now,
                    &entry.key,
                    &entry.message,
                    decision,
                    why,
                ))
                .await?;
        }
        Ok(true)
    }

    async fn apply(
        &self,
        u: &UncertainEntry,
        action: Action,
        why: &str,
        now: DateTime<Utc>,
        report: &mut ResolveReport,
    ) -> Result<(), Error> {
        let e = &u.entry;
        let purpose = e.message.purpose.as_str();
        let since = u.since.to_rfc3339();
        let resent_before = action == Action::Resend
            && self
                .ledger
                .ledger_for_key(&e.key)
                .await?
                .iter()
                .any(|r| r.decision == Decision::Resending);
        let (resolution, reason) = match action {
            Action::Resend if !resent_before => (
                Resolution::Resend(now),
                format!(
                    "resending: uncertain since {since} and {why}; {purpose} messages are sent again because a duplicate is better than silence, so the customer may get it twice"
                ),
            ),
            Action::Resend => (
                Resolution::Abandon,
                format!(
                    "abandoned: uncertain again since {since} after one resend, and {why}; not sent a third time"
                ),
            ),
            Action::Abandon => (
                Resolution::Abandon,
                format!(
                    "abandoned: uncertain since {since} and {why}; {purpose} messages are not sent again because a duplicate would be worse than silence"
                ),
            ),
        };
        if self
            .outbox
            .resolve_uncertain(e.id, &resolution, &reason, now)
            .await?
        {
            match resolution {
                Resolution::Resend(_) => report.resent += 1,
                _ => report.abandoned += 1,
            }
        }
        Ok(())
    }
}

/// An address without the `whatsapp:` prefix and surrounding space.
fn bare(a: &str) -> &str {
    let a = a.trim();
    a.strip_prefix("whatsapp:").unwrap_or(a)
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
