//! A platform app's OAuth tokens for one store: kept sealed at rest, refreshed once however
//! many tasks need them, and never lost when the platform's refresh tokens are single-use.
//!
//! - [`TokenHolder`] hands out the access token ([`TokenHolder::access_token`]) and refreshes
//!   it when it is about to expire or when the API refused it
//!   ([`TokenHolder::refresh_after_unauthorized`]). The refresh runs under the holder's lock,
//!   so under concurrency there is one refresh and every waiter gets the new token.
//! - The new token set (with the **new refresh token**) is stored durably through a
//!   [`TokenStore`] *before* the new access token is handed out. If storing fails, the set is
//!   kept in memory and stored first on the next call: the refresh is not repeated, since
//!   the old refresh token may already be spent.
//! - Tokens are sealed with ChaCha20-Poly1305 ([`TokenCipher`], a 32-byte key from
//!   configuration), bound to the holder's key as associated data, so a sealed token copied
//!   to another store's row does not open. No token or key is ever printed by `Debug`.
//! - A refresh the platform answers with "this grant is gone" (`invalid_grant`, 401) is
//!   [`RefreshError::Revoked`]: the holder remembers it (also in the store), never calls the
//!   platform again, and every caller gets a non-retryable [`Error::Platform`] saying the
//!   app was revoked — the inbox dead-letters the event with that reason instead of
//!   retrying. Before giving up, the holder reloads the store: another process may have
//!   refreshed first with the same refresh token.
//!
//! [`SnapshotTokens`] keeps sealed tokens in any [`SnapshotStore`] (kind
//! [`SNAPSHOT_KIND`], with the shop, so a shop erasure removes them); [`MemoryTokens`]
//! keeps them in memory (demos, tests).
//!
//! One file past 800 lines: the holder, its cipher and its snapshot store are one protocol
//! (seal, refresh once, store before use) whose invariants are tested together below.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::Error;
use crate::clock::{Clock, SystemClock};
use crate::model::ShopId;
use crate::store::{Snapshot, SnapshotStore};

/// The snapshot kind under which [`SnapshotTokens`] keeps sealed tokens.
pub const SNAPSHOT_KIND: &str = "platform_token";

/// How long before its expiry an access token is refreshed, by default.
pub const DEFAULT_REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

const NONCE_LEN: usize = 12;

/// An access token with its refresh token and expiry, as the platform issued them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenSet {
    /// The bearer token for API calls.
    pub access_token: String,
    /// The token that gets a new set; `None` when the platform issues none.
    pub refresh_token: Option<String>,
    /// When the access token expires; `None` when the platform does not say.
    pub expires_at: Option<DateTime<Utc>>,
}

impl TokenSet {
    /// A token set.
    pub fn new(
        access_token: impl Into<String>,
        refresh_token: Option<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            access_token: access_token.into(),
            refresh_token,
            expires_at,
        }
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// An access token handed out by a [`TokenHolder`]. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// The token text, for the request header. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// The key that seals tokens at rest (ChaCha20-Poly1305, 32 bytes). `Debug` never shows it.
#[derive(Clone)]
pub struct TokenCipher {
    key: [u8; 32],
}

impl TokenCipher {
    /// A cipher from 32 key bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::Config(format!(
                "the token encryption key must be 32 bytes, not {}",
                bytes.len()
            ))
        })?;
        Ok(Self { key })
    }

    /// A cipher from the base64 text of 32 key bytes (`openssl rand -base64 32`).
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = B64.decode(text.trim()).map_err(|_| {
            Error::Config(
                "the token encryption key is not base64 (expected 32 bytes in base64)".into(),
            )
        })?;
        Self::from_bytes(&bytes)
    }

    /// A cipher with a fresh random key (tests, demos whose tokens live only in memory).
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self { key }
    }

    /// `base64(nonce ‖ ciphertext)` of `plain`, bound to `aad`.
    pub(crate) fn seal(&self, aad: &str, plain: &[u8]) -> Result<String, Error> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.key));
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| Error::Config("the token could not be sealed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(B64.encode(out))
    }

    /// Opens what [`seal`](Self::seal) made with the same key and `aad`.
    pub(crate) fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, Error> {
        let wrong = || {
            Error::Config(format!(
                "the stored token for `{aad}` does not open with the configured token \
                 encryption key (was the key changed?); authorize the app again"
            ))
        };
        let bytes = B64.decode(sealed).map_err(|_| wrong())?;
        if bytes.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        ChaCha20Poly1305::new(Key::from_slice(&self.key))
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| wrong())
    }
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCipher(<redacted>)")
    }
}

/// Durable storage of sealed tokens (the text is already encrypted).
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The sealed tokens stored under `key`.
    async fn load(&self, key: &str) -> Result<Option<String>, Error>;

    /// Stores `sealed` under `key` (replacing what was there), durably before returning.
    async fn save(
        &self,
        key: &str,
        shop: Option<&ShopId>,
        sealed: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Error>;
}

/// Sealed tokens in a [`SnapshotStore`] (kind [`SNAPSHOT_KIND`]).
///
/// The snapshot's version is the time of saving; a save older than the stored one (another
/// process saved later) is ignored. The shop is recorded so that a shop erasure removes the
/// tokens; retention removes a token not refreshed for the whole retention period, by then
/// long expired.
#[derive(Clone)]
pub struct SnapshotTokens {
    store: Arc<dyn SnapshotStore>,
}

impl SnapshotTokens {
    /// Tokens kept in `store`.
    pub fn new(store: Arc<dyn SnapshotStore>) -> Self {
        Self { store }
    }
}

impl fmt::Debug for SnapshotTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SnapshotTokens")
    }
}

#[async_trait]
impl TokenStore for SnapshotTokens {
    async fn load(&self, key: &str) -> Result<Option<String>, Error> {
        let Some(snapshot) = self.store.snapshot(SNAPSHOT_KIND, key).await? else {
            return Ok(None);
        };
        snapshot
            .data
            .get("sealed")
            .and_then(|v| v.as_str())
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| Error::decode("stored platform token", "no `sealed` text"))
    }

    async fn save(
        &self,
        key: &str,
        shop: Option<&ShopId>,
        sealed: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let stored = self
            .store
            .put_if_newer(&Snapshot {
                kind: SNAPSHOT_KIND.to_owned(),
                shop: shop.cloned(),
                id: key.to_owned(),
                version: at,
                data: serde_json::json!({ "sealed": sealed }),
            })
            .await?;
        if !stored {
            tracing::warn!(key, "a newer platform token was already stored; kept it");
        }
        Ok(())
    }
}

/// Sealed tokens in memory: lost when the process ends (demos, tests).
#[derive(Debug, Default)]
pub struct MemoryTokens {
    tokens: std::sync::Mutex<HashMap<String, String>>,
}

impl MemoryTokens {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TokenStore for MemoryTokens {
    async fn load(&self, key: &str) -> Result<Option<String>, Error> {
        let tokens = self
            .tokens
            .lock()
            .map_err(|_| Error::storage("read a platform token", "lock poisoned"))?;
        Ok(tokens.get(key).cloned())
    }

    async fn save(
        &self,
        key: &str,
        _shop: Option<&ShopId>,
        sealed: &str,
        _at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut tokens = self
            .tokens
            .lock()
            .map_err(|_| Error::storage("store a platform token", "lock poisoned"))?;
        tokens.insert(key.to_owned(), sealed.to_owned());
        Ok(())
    }
}

/// Why a refresh failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RefreshError {
    /// The grant is gone (`invalid_grant`, 401): the app was uninstalled or its access
    /// revoked. The text is the platform's, for the ledger.
    Revoked(String),
    /// Anything else (network, 5xx, 429): the same refresh token may work later.
    Failed(Error),
}

/// Exchanges a refresh token for a new token set at the platform's OAuth endpoint.
#[async_trait]
pub trait TokenRefresher: Send + Sync {
    /// The new set. A set without a refresh token keeps the old one.
    async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, RefreshError>;
}

/// What is sealed: the tokens, or the reason they were revoked.
#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    tokens: Option<TokenSet>,
    revoked: Option<String>,
}

enum State {
    Unloaded,
    Empty,
    /// Stored durably.
    Ready(TokenSet),
    /// Received but not stored yet: stored before anything else happens.
    Unsaved(TokenSet),
    Revoked(String),
}

/// One store's tokens for a platform app: see the [module documentation](self).
pub struct TokenHolder {
    key: String,
    shop: Option<ShopId>,
    store: Arc<dyn TokenStore>,
    cipher: TokenCipher,
    refresher: Arc<dyn TokenRefresher>,
    clock: Arc<dyn Clock>,
    margin: chrono::Duration,
    state: Mutex<State>,
}

impl fmt::Debug for TokenHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenHolder")
            .field("key", &self.key)
            .field("shop", &self.shop)
            .finish_non_exhaustive()
    }
}

impl TokenHolder {
    /// The tokens stored under `key` (e.g. `salla:1234509876`), sealed with `cipher` in
    /// `store`, refreshed with `refresher`.
    pub fn new(
        key: impl Into<String>,
        store: Arc<dyn TokenStore>,
        cipher: TokenCipher,
        refresher: Arc<dyn TokenRefresher>,
    ) -> Self {
        Self {
            key: key.into(),
            shop: None,
            store,
            cipher,
            refresher,
            clock: Arc::new(SystemClock),
            margin: DEFAULT_REFRESH_MARGIN,
            state: Mutex::new(State::Unloaded),
        }
    }

    /// The shop the tokens belong to (recorded with them, so a shop erasure removes them).
    pub fn shop(mut self, shop: ShopId) -> Self {
        self.shop = Some(shop);
        self
    }

    /// The clock that decides expiry.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How long before expiry the token is refreshed ([`DEFAULT_REFRESH_MARGIN`]).
    pub fn refresh_margin(mut self, margin: chrono::Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The key the tokens are stored under.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Stores a token set the platform issued (an install or authorize event) and uses it
    /// from now on. A revoked holder becomes usable again.
    pub async fn install(&self, tokens: TokenSet) -> Result<(), Error> {
        let mut state = self.state.lock().await;
        *state = State::Unsaved(tokens);
        self.persist_unsaved(&mut state).await
    }

    /// Stores `tokens` only when nothing is stored yet (a first grant from configuration);
    /// tokens already stored — refreshed since, or revoked — are kept. Returns whether it
    /// stored them.
    pub async fn install_if_absent(&self, tokens: TokenSet) -> Result<bool, Error> {
        let mut state = self.state.lock().await;
        if matches!(*state, State::Unloaded) {
            *state = self.load().await?;
        }
        if !matches!(*state, State::Empty) {
            return Ok(false);
        }
        *state = State::Unsaved(tokens);
        self.persist_unsaved(&mut state).await?;
        Ok(true)
    }

    /// Marks the tokens revoked (the app was uninstalled): from now on every call fails with
    /// `reason`, without calling the platform.
    pub async fn revoke(&self, reason: &str) -> Result<(), Error> {
        let mut state = self.state.lock().await;
        *state = State::Revoked(reason.to_owned());
        self.save(&Stored {
            tokens: None,
            revoked: Some(reason.to_owned()),
        })
        .await
    }

    /// A valid access token: the current one, or a new one when it expires within the
    /// refresh margin.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        let mut state = self.state.lock().await;
        let tokens = self.current(&mut state).await?;
        if !self.expiring(&tokens) {
            return Ok(AccessToken(tokens.access_token));
        }
        self.refresh(&mut state, tokens, false).await
    }

    /// A new access token after the API refused `rejected` (HTTP 401). If the token was
    /// already replaced meanwhile, the current one is returned without refreshing again.
    pub async fn refresh_after_unauthorized(
        &self,
        rejected: &AccessToken,
    ) -> Result<AccessToken, Error> {
        let mut state = self.state.lock().await;
        let tokens = self.current(&mut state).await?;
        if tokens.access_token != rejected.0 {
            return Ok(AccessToken(tokens.access_token));
        }
        self.refresh(&mut state, tokens, true).await
    }

    /// The usable token set: loaded if needed, stored if not yet.
    async fn current(&self, state: &mut State) -> Result<TokenSet, Error> {
        if matches!(state, State::Unloaded) {
            *state = self.load().await?;
        }
        if matches!(state, State::Unsaved(_)) {
            self.persist_unsaved(state).await?;
        }
        match state {
            State::Ready(tokens) => Ok(tokens.clone()),
            State::Revoked(reason) => Err(self.revoked(reason)),
            State::Empty => Err(Error::Platform {
                operation: format!("find the access token of `{}`", self.key),
                status: None,
                message: "no token is stored: the app was not authorized for this store yet \
                          (install it, or wait for its authorize event)"
                    .into(),
                retryable: false,
            }),
            State::Unloaded | State::Unsaved(_) => Err(Error::storage(
                "store a platform token",
                "the token set is not stored yet",
            )),
        }
    }

    fn expiring(&self, tokens: &TokenSet) -> bool {
        tokens
            .expires_at
            .is_some_and(|at| at - self.margin <= self.clock.now())
    }

    async fn refresh(
        &self,
        state: &mut State,
        tokens: TokenSet,
        rejected: bool,
    ) -> Result<AccessToken, Error> {
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            if rejected {
                let reason = "the API refused the access token and there is no refresh token";
                return Err(self.give_up(state, reason).await);
            }
            // Nothing to refresh with: use it until the platform refuses it.
            return Ok(AccessToken(tokens.access_token));
        };
        tracing::info!(key = %self.key, "refreshing a platform access token");
        match self.refresher.refresh(&refresh_token).await {
            Ok(mut new) => {
                if new.refresh_token.is_none() {
                    new.refresh_token = Some(refresh_token);
                }
                let access = AccessToken(new.access_token.clone());
                *state = State::Unsaved(new);
                self.persist_unsaved(state).await?;
                Ok(access)
            }
            Err(RefreshError::Revoked(reason)) => {
                // Another process may have spent the same refresh token first and stored
                // the new set: use it if so.
                if let Ok(State::Ready(stored)) = self.load().await
                    && stored.refresh_token.as_deref() != Some(refresh_token.as_str())
                {
                    let access = AccessToken(stored.access_token.clone());
                    *state = State::Ready(stored);
                    return Ok(access);
                }
                Err(self.give_up(state, &reason).await)
            }
            Err(RefreshError::Failed(e)) => {
                let still_valid = tokens.expires_at.is_some_and(|at| at > self.clock.now());
                if still_valid && !rejected {
                    tracing::warn!(key = %self.key, error = %e, "token refresh failed; the current token is still valid");
                    return Ok(AccessToken(tokens.access_token));
                }
                Err(e)
            }
        }
    }

    /// Records the revocation (in memory, then durably, best effort) and returns its error.
    async fn give_up(&self, state: &mut State, reason: &str) -> Error {
        tracing::warn!(key = %self.key, reason, "the platform app was revoked for this store");
        *state = State::Revoked(reason.to_owned());
        if let Err(e) = self
            .save(&Stored {
                tokens: None,
                revoked: Some(reason.to_owned()),
            })
            .await
        {
            tracing::warn!(key = %self.key, error = %e, "could not store the revocation");
        }
        self.revoked(reason)
    }

    fn revoked(&self, reason: &str) -> Error {
        Error::Platform {
            operation: format!("refresh the access token of `{}`", self.key),
            status: None,
            message: format!(
                "the app was revoked or uninstalled for this store ({reason}); it stays stopped \
                 until the store authorizes the app again"
            ),
            retryable: false,
        }
    }

    async fn persist_unsaved(&self, state: &mut State) -> Result<(), Error> {
        let State::Unsaved(tokens) = state else {
            return Ok(());
        };
        self.save(&Stored {
            tokens: Some(tokens.clone()),
            revoked: None,
        })
        .await?;
        let tokens = tokens.clone();
        *state = State::Ready(tokens);
        Ok(())
    }

    async fn save(&self, stored: &Stored) -> Result<(), Error> {
        let plain = serde_json::to_vec(stored).map_err(|e| Error::decode("platform token", e))?;
        let sealed = self.cipher.seal(&self.key, &plain)?;
        self.store
            .save(&self.key, self.shop.as_ref(), &sealed, self.clock.now())
            .await
    }

    async fn load(&self) -> Result<State, Error> {
        let Some(sealed) = self.store.load(&self.key).await? else {
            return Ok(State::Empty);
        };
        let plain = self.cipher.open(&self.key, &sealed)?;
        let stored: Stored = serde_json::from_slice(&plain)
            .map_err(|e| Error::decode("stored platform token", e))?;
        Ok(match (stored.tokens, stored.revoked) {
            (_, Some(reason)) => State::Revoked(reason),
            (Some(tokens), None) => State::Ready(tokens),
            (None, None) => State::Empty,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    /// Hands out `access-N` / `refresh-N`, slowly, counting calls; or a scripted failure.
    struct Counting {
        calls: AtomicUsize,
        revoke: AtomicBool,
        fail: AtomicBool,
        seen: std::sync::Mutex<Vec<String>>,
    }

    impl Counting {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                calls: AtomicUsize::new(0),
                revoke: AtomicBool::new(false),
                fail: AtomicBool::new(false),
                seen: std::sync::Mutex::new(Vec::new()),
            })
        }
        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl TokenRefresher for Counting {
        async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, RefreshError> {
            self.seen.lock().unwrap().push(refresh_token.to_owned());
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.revoke.load(Ordering::SeqCst) {
                return Err(RefreshError::Revoked("invalid_grant".into()));
            }
            if self.fail.load(Ordering::SeqCst) {
                return Err(RefreshError::Failed(Error::Platform {
                    operation: "refresh".into(),
                    status: Some(503),
                    message: "down".into(),
                    retryable: true,
                }));
            }
            Ok(TokenSet::new(
                format!("access-{n}"),
                Some(format!("refresh-{n}")),
                Some(Utc::now() + chrono::Duration::days(14)),
            ))
        }
    }

    /// A store that fails the next `fail` saves.
    #[derive(Default)]
    struct Flaky {
        inner: MemoryTokens,
        fail: AtomicUsize,
    }

    #[async_trait]
    impl TokenStore for Flaky {
        async fn load(&self, key: &str) -> Result<Option<String>, Error> {
            self.inner.load(key).await
        }
        async fn save(
            &self,
            key: &str,
            shop: Option<&ShopId>,
            sealed: &str,
            at: DateTime<Utc>,
        ) -> Result<(), Error> {
            if self
                .fail
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(Error::storage("store a platform token", "disk full"));
            }
            self.inner.save(key, shop, sealed, at).await
        }
    }

    fn expired() -> TokenSet {
        TokenSet::new(
            "access-0",
            Some("refresh-0".into()),
            Some(Utc::now() - chrono::Duration::minutes(1)),
        )
    }

    fn stored_set(store: &dyn TokenStore, cipher: &TokenCipher, key: &str) -> Stored {
        let sealed = futures::executor::block_on(store.load(key))
            .unwrap()
            .unwrap();
        serde_json::from_slice(&cipher.open(key, &sealed).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn an_expired_token_is_refreshed_once_under_concurrency() {
        let store = Arc::new(MemoryTokens::new());
        let refresher = Counting::new();
        let cipher = TokenCipher::generate();
        let holder = Arc::new(TokenHolder::new(
            "shop:1",
            store.clone(),
            cipher.clone(),
            refresher.clone(),
        ));
        holder.install(expired()).await.unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let holder = holder.clone();
                tokio::spawn(async move { holder.access_token().await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().expose(), "access-1");
        }
        assert_eq!(refresher.calls(), 1);
        let stored = stored_set(store.as_ref(), &cipher, "shop:1");
        assert_eq!(
            stored.tokens.unwrap().refresh_token.as_deref(),
            Some("refresh-1")
        );
    }

    #[tokio::test]
    async fn a_new_refresh_token_that_could_not_be_stored_is_stored_before_use_and_never_lost() {
        let store = Arc::new(Flaky::default());
        let refresher = Counting::new();
        let cipher = TokenCipher::generate();
        let holder = TokenHolder::new("shop:1", store.clone(), cipher.clone(), refresher.clone());
        holder.install(expired()).await.unwrap();
        store.fail.store(1, Ordering::SeqCst);
        // The refresh succeeded but storing failed: the new access token is not handed out.
        let err = holder.access_token().await.unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert_eq!(refresher.calls(), 1);
        // Next call: the kept set is stored first, no second refresh with a spent token.
        assert_eq!(holder.access_token().await.unwrap().expose(), "access-1");
        assert_eq!(refresher.calls(), 1);
        let stored = stored_set(store.as_ref(), &cipher, "shop:1");
        assert_eq!(
            stored.tokens.unwrap().refresh_token.as_deref(),
            Some("refresh-1")
        );
    }

    #[tokio::test]
    async fn a_revoked_app_stops_without_calling_the_platform_again() {
        let store = Arc::new(MemoryTokens::new());
        let refresher = Counting::new();
        refresher.revoke.store(true, Ordering::SeqCst);
        let cipher = TokenCipher::generate();
        let holder = TokenHolder::new("shop:1", store.clone(), cipher.clone(), refresher.clone());
        holder.install(expired()).await.unwrap();
        for _ in 0..3 {
            let err = holder.access_token().await.unwrap_err();
            assert!(!err.is_retryable());
            assert!(err.to_string().contains("revoked"), "{err}");
            assert!(err.to_string().contains("invalid_grant"), "{err}");
        }
        assert_eq!(refresher.calls(), 1);
        // A restarted process reads the revocation from the store.
        let again = TokenHolder::new("shop:1", store.clone(), cipher, refresher.clone());
        assert!(again.access_token().await.is_err());
        assert_eq!(refresher.calls(), 1);
        // Authorizing again makes it usable.
        again
            .install(TokenSet::new("fresh", None, None))
            .await
            .unwrap();
        assert_eq!(again.access_token().await.unwrap().expose(), "fresh");
    }

    #[tokio::test]
    async fn a_configured_first_grant_never_overwrites_stored_tokens() {
        let store = Arc::new(MemoryTokens::new());
        let cipher = TokenCipher::generate();
        let first = TokenHolder::new("shop:1", store.clone(), cipher.clone(), Counting::new());
        assert!(first.install_if_absent(expired()).await.unwrap());
        // Refreshed since: a restart with the same configuration keeps the new set.
        first.access_token().await.unwrap();
        let again = TokenHolder::new("shop:1", store, cipher, Counting::new());
        assert!(!again.install_if_absent(expired()).await.unwrap());
        assert_eq!(again.access_token().await.unwrap().expose(), "access-1");
    }

    #[tokio::test]
    async fn a_refresh_spent_by_another_process_adopts_the_stored_set() {
        let store = Arc::new(MemoryTokens::new());
        let cipher = TokenCipher::generate();
        let ours = Counting::new();
        ours.revoke.store(true, Ordering::SeqCst);
        let holder = TokenHolder::new("shop:1", store.clone(), cipher.clone(), ours.clone());
        holder.install(expired()).await.unwrap();
        // Another process refreshed with refresh-0 and stored its new set.
        let other = TokenHolder::new("shop:1", store.clone(), cipher, Counting::new());
        other
            .install(TokenSet::new(
                "theirs",
                Some("refresh-x".into()),
                Some(Utc::now() + chrono::Duration::days(1)),
            ))
            .await
            .unwrap();
        assert_eq!(holder.access_token().await.unwrap().expose(), "theirs");
    }

    #[tokio::test]
    async fn unauthorized_refreshes_once_for_many_callers_holding_the_same_token() {
        let refresher = Counting::new();
        let holder = Arc::new(TokenHolder::new(
            "shop:1",
            Arc::new(MemoryTokens::new()),
            TokenCipher::generate(),
            refresher.clone(),
        ));
        holder
            .install(TokenSet::new("access-0", Some("refresh-0".into()), None))
            .await
            .unwrap();
        let rejected = holder.access_token().await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (holder, rejected) = (holder.clone(), rejected.clone());
                tokio::spawn(async move { holder.refresh_after_unauthorized(&rejected).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().expose(), "access-1");
        }
        assert_eq!(refresher.calls(), 1);
        assert_eq!(
            *refresher.seen.lock().unwrap(),
            vec!["refresh-0".to_owned()]
        );
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_a_still_valid_token_and_is_retryable_once_expired() {
        let refresher = Counting::new();
        refresher.fail.store(true, Ordering::SeqCst);
        let holder = TokenHolder::new(
            "shop:1",
            Arc::new(MemoryTokens::new()),
            TokenCipher::generate(),
            refresher.clone(),
        );
        let soon = Utc::now() + chrono::Duration::minutes(2);
        holder
            .install(TokenSet::new("a", Some("r".into()), Some(soon)))
            .await
            .unwrap();
        assert_eq!(holder.access_token().await.unwrap().expose(), "a");
        holder.install(expired()).await.unwrap();
        assert!(holder.access_token().await.unwrap_err().is_retryable());
    }

    #[tokio::test]
    async fn sealed_tokens_are_encrypted_and_bound_to_their_key() {
        let cipher = TokenCipher::generate();
        let sealed = cipher.seal("shop:1", b"secret-token").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(cipher.open("shop:1", &sealed).unwrap(), b"secret-token");
        assert!(cipher.open("shop:2", &sealed).is_err(), "bound to its key");
        assert!(TokenCipher::generate().open("shop:1", &sealed).is_err());
        let mut bytes = B64.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(cipher.open("shop:1", &B64.encode(bytes)).is_err());
        // Two seals of the same text differ (fresh nonce).
        assert_ne!(sealed, cipher.seal("shop:1", b"secret-token").unwrap());
    }

    #[test]
    fn keys_are_checked_and_nothing_secret_is_printed() {
        assert!(TokenCipher::from_base64(&B64.encode([7u8; 31])).is_err());
        assert!(TokenCipher::from_base64("not base64!").is_err());
        let cipher = TokenCipher::from_base64(&B64.encode([7u8; 32])).unwrap();
        let set = TokenSet::new("acc-secret", Some("ref-secret".into()), None);
        let printed = format!("{cipher:?} {set:?} {:?}", AccessToken("acc-secret".into()));
        assert!(!printed.contains("secret"), "{printed}");
        assert!(!printed.contains("7, 7"), "{printed}");
    }

    #[tokio::test]
    async fn snapshot_tokens_round_trip_through_a_snapshot_store() {
        #[derive(Default)]
        struct Snapshots(std::sync::Mutex<HashMap<(String, String), Snapshot>>);
        #[async_trait]
        impl SnapshotStore for Snapshots {
            async fn put_if_newer(&self, s: &Snapshot) -> Result<bool, Error> {
                let mut map = self.0.lock().unwrap();
                let k = (s.kind.clone(), s.id.clone());
                if map.get(&k).is_some_and(|old| old.version > s.version) {
                    return Ok(false);
                }
                map.insert(k, s.clone());
                Ok(true)
            }
            async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
                Ok(self
                    .0
                    .lock()
                    .unwrap()
                    .get(&(kind.into(), id.into()))
                    .cloned())
            }
        }
        let snapshots = Arc::new(Snapshots::default());
        let cipher = TokenCipher::generate();
        let holder = TokenHolder::new(
            "shop:1",
            Arc::new(SnapshotTokens::new(snapshots.clone())),
            cipher.clone(),
            Counting::new(),
        )
        .shop(ShopId::from("1"));
        holder
            .install(TokenSet::new(
                "plain-access-token",
                Some("ref".into()),
                None,
            ))
            .await
            .unwrap();
        let row = snapshots
            .snapshot(SNAPSHOT_KIND, "shop:1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.shop, Some(ShopId::from("1")));
        assert!(!row.data.to_string().contains("plain-access-token"));
        let again = TokenHolder::new(
            "shop:1",
            Arc::new(SnapshotTokens::new(snapshots)),
            cipher,
            Counting::new(),
        );
        assert_eq!(
            again.access_token().await.unwrap().expose(),
            "plain-access-token"
        );
    }
}
