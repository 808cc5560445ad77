//! The durable answer queue: a survey answer's follow-up stored in the inbox before the answer is recorded.

use super::*;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::clock::Clock;
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{Invitation, PlatformEvent, SurveyResponse};
use crate::store::{Inbox, InboxEntry, NewInboxEntry};
use crate::webhook::{Rejection, VerifiedWebhook, WebhookRequest, WebhookSource};

/// The inbox source name under which [`AnswerQueue`] stores answers waiting for their
/// follow-up. Register [`AnswerSource`] under it on the inbox processor.
pub const ANSWER_SOURCE: &str = "survey-answer";

/// What [`AnswerQueue`] stores: only the invitation's id (no personal data in the inbox).
#[derive(Serialize, Deserialize)]
pub(super) struct QueuedAnswer {
    invitation_id: String,
}

/// Makes the survey page's follow-up durable: before an answer is recorded, an inbox entry
/// (source [`ANSWER_SOURCE`], de-duplicated per invitation) is stored; the inbox processor
/// then runs [`FollowUp`] on it, with retries, backoff and dead letters like any webhook, and
/// it survives a crash. Wire it with `SurveyPage::on_answer` (feature `axum`),
/// register [`AnswerSource`] on the processor and put the [`FollowUp`] in its handler chain.
///
/// ```
/// # use std::sync::Arc;
/// # use aftercare::flows::feedback::{ANSWER_SOURCE, AnswerQueue, AnswerSource};
/// # fn wire(store: Arc<dyn aftercare::store::Inbox>, clock: Arc<dyn aftercare::clock::Clock>,
/// #         processor: aftercare::inbox::InboxProcessor) -> aftercare::inbox::InboxProcessor {
/// let queue = AnswerQueue::new(store, clock); // → SurveyPage::on_answer(Arc::new(queue))
/// processor.source(ANSWER_SOURCE, Arc::new(AnswerSource))
/// # }
/// ```
pub struct AnswerQueue {
    inbox: Arc<dyn Inbox>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AnswerQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerQueue").finish_non_exhaustive()
    }
}

impl AnswerQueue {
    /// A queue into `inbox`.
    pub fn new(inbox: Arc<dyn Inbox>, clock: Arc<dyn Clock>) -> Self {
        Self { inbox, clock }
    }

    /// Stores the follow-up of `invitation`'s answer in the inbox (once per invitation).
    pub async fn queue(&self, invitation: &Invitation) -> Result<(), Error> {
        let body = serde_json::to_vec(&QueuedAnswer {
            invitation_id: invitation.id.clone(),
        })
        .map_err(|e| Error::decode("queued survey answer", e))?;
        let mut v = VerifiedWebhook::new(format!("answer:{}", invitation.id));
        v.topic = Some("survey/answered".into());
        v.shop = invitation.shop.as_ref().map(|s| s.as_str().to_owned());
        self.inbox
            .insert(NewInboxEntry::new(ANSWER_SOURCE, v, body, self.clock.now()))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl AnswerHook for AnswerQueue {
    async fn before_record(
        &self,
        _response: &SurveyResponse,
        invitation: &Invitation,
    ) -> Result<(), Error> {
        self.queue(invitation).await
    }

    async fn answered(&self, _response: &SurveyResponse) {}
}

/// The inbox source of [`AnswerQueue`]'s entries. They are written by this process, never
/// received over HTTP: `verify` refuses every request, `decode` yields no platform events
/// (the [`FollowUp`] handler reads the entry itself).
#[derive(Clone, Copy, Debug, Default)]
pub struct AnswerSource;

impl WebhookSource for AnswerSource {
    fn verify(&self, _request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        Err(Rejection::Mismatch)
    }

    fn decode(&self, _entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        Ok(Vec::new())
    }
}

/// Runs the follow-up of answers queued by [`AnswerQueue`] (inbox entries of source
/// [`ANSWER_SOURCE`]); entries of other sources are not its business. The recorded answer
/// is the truth (the first one wins), so the queued entry carries only the invitation's id.
/// An answer not recorded yet is retried (the page queues before it records); a failing
/// follow-up is retried with the inbox's backoff and dead-lettered in the end.
#[async_trait]
impl EventHandler for FollowUp {
    async fn handle(
        &self,
        entry: &InboxEntry,
        _events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        if entry.source != ANSWER_SOURCE {
            return Ok(());
        }
        let queued: QueuedAnswer = serde_json::from_slice(&entry.body).map_err(|e| {
            HandlerError::Poison(format!("a queued survey answer is not valid JSON: {e}"))
        })?;
        let Some(recorded) = self.surveys.response(&queued.invitation_id).await? else {
            return Err(HandlerError::Retry(format!(
                "no answer is recorded for invitation {} yet",
                queued.invitation_id
            )));
        };
        self.act(&recorded).await?;
        Ok(())
    }
}
