//! Message channels that record, print and log instead of sending.

use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::{Clock, SystemClock};
use aftercare::model::{ChannelKind, OutboundMessage, Receipt};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A failure to simulate on the next sends.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// [`SendError::Transient`] (throttled, 5xx), with an optional `Retry-After`.
    Transient {
        /// The wait asked for.
        retry_after: Option<Duration>,
    },
    /// [`SendError::Permanent`] (invalid number, rejected content); `opted_out` marks a
    /// recipient who opted out (Twilio 21610).
    Permanent {
        /// Provider code (`21211`).
        code: Option<String>,
        /// Whether the recipient has opted out.
        opted_out: bool,
    },
    /// [`SendError::MaybeSent`]: a timeout after the request went out. With `delivered`
    /// the customer did receive it (recorded in [`RecordingChannel::sent`]), as happens when
    /// only the answer was lost.
    MaybeSent {
        /// Whether the message actually reached the customer.
        delivered: bool,
    },
    /// [`SendError::TemplateRequired`] (WhatsApp outside the 24-hour window).
    TemplateRequired,
}

impl Failure {
    /// A transient failure without `Retry-After`.
    pub fn transient() -> Self {
        Failure::Transient { retry_after: None }
    }

    /// A permanent failure (Twilio-style code 21211, invalid number).
    pub fn permanent() -> Self {
        Failure::Permanent {
            code: Some("21211".to_owned()),
            opted_out: false,
        }
    }

    /// A timeout after sending; the message did not arrive.
    pub fn maybe_sent() -> Self {
        Failure::MaybeSent { delivered: false }
    }

    fn to_error(&self) -> SendError {
        match self {
            Failure::Transient { retry_after } => SendError::transient(
                *retry_after,
                "sandbox: simulated provider throttling (HTTP 429)",
            ),
            Failure::Permanent { code, opted_out } => SendError::Permanent {
                code: code.clone(),
                reason: if *opted_out {
                    "sandbox: the recipient has opted out".to_owned()
                } else {
                    "sandbox: simulated invalid recipient".to_owned()
                },
                opted_out: *opted_out,
            },
            Failure::MaybeSent { .. } => SendError::MaybeSent {
                reason: "sandbox: simulated timeout after the request was written".to_owned(),
            },
            Failure::TemplateRequired => SendError::TemplateRequired {
                reason: "sandbox: outside the 24-hour customer-service window".to_owned(),
            },
        }
    }
}

/// A message the channel delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SentMessage {
    /// The channel.
    pub channel: ChannelKind,
    /// The recipient.
    pub to: String,
    /// Locale.
    pub locale: String,
    /// Subject (email).
    pub subject: Option<String>,
    /// Text, exactly as given (right-to-left text untouched).
    pub text: String,
    /// The idempotency key the dispatcher passed.
    pub idempotency_key: String,
    /// The id the channel returned.
    pub provider_message_id: String,
    /// When, on the channel's clock.
    pub sent_at: DateTime<Utc>,
    /// The whole message.
    #[serde(skip)]
    pub message: OutboundMessage,
}

/// How one send attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// Accepted, with the provider id.
    Sent(String),
    /// Failed with this error.
    Failed(SendError),
}

/// One call to [`MessageChannel::send`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendAttempt {
    /// The idempotency key.
    pub idempotency_key: String,
    /// The recipient.
    pub to: String,
    /// When, on the channel's clock.
    pub at: DateTime<Utc>,
    /// How it ended.
    pub outcome: SendOutcome,
}

#[derive(Debug, Default)]
struct Inner {
    sent: Vec<SentMessage>,
    attempts: Vec<SendAttempt>,
    failures: VecDeque<Failure>,
    counter: u64,
}

/// A [`MessageChannel`] for any [`ChannelKind`] that delivers nowhere: it records every
/// message (inspect with [`sent`](Self::sent) and [`attempts`](Self::attempts)), prints it to
/// stdout when built with [`console`](Self::console) or [`print`](Self::print), appends it as
/// a JSON line to a file with [`jsonl`](Self::jsonl), and fails on demand with
/// [`fail_next`](Self::fail_next).
///
/// ```
/// # tokio_test_block(async {
/// use aftercare::channel::{MessageChannel, SendError};
/// use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
/// use aftercare_sandbox::{Failure, RecordingChannel};
///
/// let ch = RecordingChannel::new(ChannelKind::Whatsapp);
/// ch.fail_next(1, Failure::transient());
/// let msg = OutboundMessage::new(ChannelKind::Whatsapp, "+966501234567", Purpose::Transactional, "طلبك في الطريق");
/// assert!(matches!(ch.send(&msg, "k1").await, Err(SendError::Transient { .. })));
/// assert!(ch.send(&msg, "k1").await.is_ok());
/// assert_eq!(ch.sent()[0].text, "طلبك في الطريق");
/// assert_eq!(ch.attempts().len(), 2);
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     futures::executor::block_on(f)
/// # }
/// ```
#[derive(Debug)]
pub struct RecordingChannel {
    kind: ChannelKind,
    print: bool,
    jsonl: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

impl RecordingChannel {
    /// A quiet channel that only records.
    pub fn new(kind: ChannelKind) -> Self {
        Self {
            kind,
            print: false,
            jsonl: None,
            clock: Arc::new(SystemClock),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// A channel that records and prints every message to stdout.
    pub fn console(kind: ChannelKind) -> Self {
        Self::new(kind).print(true)
    }

    /// Whether to print each message to stdout.
    pub fn print(mut self, yes: bool) -> Self {
        self.print = yes;
        self
    }

    /// Appends each delivered message as one JSON line to `path`.
    pub fn jsonl(mut self, path: impl Into<PathBuf>) -> Self {
        self.jsonl = Some(path.into());
        self
    }

    /// Uses a clock for `sent_at` and receipts (the sandbox's manual clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the next `n` sends fail with `failure` (queued after failures already asked for).
    pub fn fail_next(&self, n: usize, failure: Failure) {
        let mut inner = self.inner();
        inner.failures.extend(std::iter::repeat_n(failure, n));
    }

    /// Failures still queued.
    pub fn pending_failures(&self) -> usize {
        self.inner().failures.len()
    }

    /// Every message delivered, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.inner().sent.clone()
    }

    /// Messages delivered to one recipient.
    pub fn sent_to(&self, to: &str) -> Vec<SentMessage> {
        self.inner()
            .sent
            .iter()
            .filter(|m| m.to == to)
            .cloned()
            .collect()
    }

    /// Every call to `send`, failed or not, in order.
    pub fn attempts(&self) -> Vec<SendAttempt> {
        self.inner().attempts.clone()
    }

    /// Forgets everything recorded (queued failures stay).
    pub fn clear(&self) {
        let mut inner = self.inner();
        inner.sent.clear();
        inner.attempts.clear();
    }

    fn deliver(
        &self,
        message: &OutboundMessage,
        key: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> std::io::Result<SentMessage> {
        let sent = SentMessage {
            channel: message.channel,
            to: message.to.clone(),
            locale: message.locale.clone(),
            subject: message.subject.clone(),
            text: message.text.clone(),
            idempotency_key: key.to_owned(),
            provider_message_id: id.to_owned(),
            sent_at: at,
            message: message.clone(),
        };
        if self.print {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "──── {} → {} ({}) · {}",
                message.channel,
                message.to,
                message.locale,
                at.to_rfc3339()
            )?;
            if let Some(s) = &message.subject {
                writeln!(out, "Subject: {s}")?;
            }
            writeln!(out, "{}\n", message.text)?;
        }
        if let Some(path) = &self.jsonl {
            let mut line = serde_json::to_vec(&sent).map_err(std::io::Error::other)?;
            line.push(b'\n');
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?
                .write_all(&line)?;
        }
        Ok(sent)
    }
}

#[async_trait]
impl MessageChannel for RecordingChannel {
    fn kind(&self) -> ChannelKind {
        self.kind
    }

    async fn send(
        &self,
        message: &OutboundMessage,
        idempotency_key: &str,
    ) -> Result<Receipt, SendError> {
        let at = self.clock.now();
        let (failure, id) = {
            let mut inner = self.inner();
            inner.counter += 1;
            (
                inner.failures.pop_front(),
                format!("sbx-{}-{:06}", self.kind, inner.counter),
            )
        };
        let record = |outcome: SendOutcome| {
            self.inner().attempts.push(SendAttempt {
                idempotency_key: idempotency_key.to_owned(),
                to: message.to.clone(),
                at,
                outcome,
            });
        };
        let delivers = match &failure {
            None => true,
            Some(Failure::MaybeSent { delivered }) => *delivered,
            Some(_) => false,
        };
        if delivers {
            match self.deliver(message, idempotency_key, &id, at) {
                Ok(sent) => self.inner().sent.push(sent),
                Err(e) => {
                    let err = SendError::transient(
                        None,
                        format!("sandbox: could not write the message log: {e}"),
                    );
                    record(SendOutcome::Failed(err.clone()));
                    return Err(err);
                }
            }
        }
        match failure {
            None => {
                record(SendOutcome::Sent(id.clone()));
                Ok(Receipt::new(id, at))
            }
            Some(f) => {
                let err = f.to_error();
                record(SendOutcome::Failed(err.clone()));
                Err(err)
            }
        }
    }
}

/// The sandbox's console channel: a [`RecordingChannel`] that prints every message to stdout
/// (channel, recipient, locale, time, subject and text, right-to-left text untouched). Every
/// [`RecordingChannel`] method is available through `Deref`.
///
/// ```
/// use aftercare::model::ChannelKind;
/// use aftercare_sandbox::ConsoleChannel;
/// let ch = ConsoleChannel::new(ChannelKind::Sms);
/// assert!(ch.sent().is_empty());
/// ```
#[derive(Debug)]
pub struct ConsoleChannel(RecordingChannel);

impl ConsoleChannel {
    /// A printing channel of a kind.
    pub fn new(kind: ChannelKind) -> Self {
        Self(RecordingChannel::console(kind))
    }

    /// Also appends each delivered message as a JSON line to `path`.
    pub fn jsonl(self, path: impl Into<PathBuf>) -> Self {
        Self(self.0.jsonl(path))
    }

    /// Uses a clock for `sent_at` and receipts.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self(self.0.with_clock(clock))
    }
}

impl std::ops::Deref for ConsoleChannel {
    type Target = RecordingChannel;

    fn deref(&self) -> &RecordingChannel {
        &self.0
    }
}

#[async_trait]
impl MessageChannel for ConsoleChannel {
    fn kind(&self) -> ChannelKind {
        self.0.kind()
    }

    async fn send(
        &self,
        message: &OutboundMessage,
        idempotency_key: &str,
    ) -> Result<Receipt, SendError> {
        self.0.send(message, idempotency_key).await
    }
}
