//! Signed, expiring, unguessable tokens for links (tracking page, survey answers).
//!
//! A token is `base64url(claims JSON) "." base64url(HMAC-SHA256(key, "aftercare-token:v1:" +
//! purpose + "." + claims))`. The purpose is bound into the MAC, so a tracking token cannot
//! be replayed as a survey token. Claims carry their expiry (`exp`, Unix seconds) and a
//! random nonce, so tokens are unguessable even for predictable claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::Sha256;

use crate::webhook::Secret;

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not two base64url parts, or not JSON inside.
    #[error("the link is malformed; ask for a new one")]
    Malformed,
    /// The signature does not match: forged or altered.
    #[error("the link's signature is invalid")]
    Forged,
    /// Past its expiry.
    #[error("the link expired on {0}")]
    Expired(DateTime<Utc>),
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    exp: i64,
    n: String,
    #[serde(flatten)]
    claims: T,
}

/// Signs and checks tokens for one purpose (`tracking`, `survey`).
///
/// ```
/// use aftercare::token::{TokenSigner, TokenError};
/// use aftercare::webhook::Secret;
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Claims { order: String }
/// let s = TokenSigner::new(Secret::from("k"), "tracking");
/// let now = chrono::Utc::now();
/// let t = s.sign(&Claims { order: "1001".into() }, now + chrono::Duration::days(30));
/// assert_eq!(s.verify::<Claims>(&t, now).unwrap(), Claims { order: "1001".into() });
/// assert_eq!(TokenSigner::new(Secret::from("k"), "survey").verify::<Claims>(&t, now), Err(TokenError::Forged));
/// ```
#[derive(Clone, Debug)]
pub struct TokenSigner {
    key: Secret,
    purpose: String,
}

impl TokenSigner {
    /// A signer for `purpose` with `key`.
    pub fn new(key: Secret, purpose: impl Into<String>) -> Self {
        Self {
            key,
            purpose: purpose.into(),
        }
    }

    /// The MAC over a payload. HMAC accepts keys of any length, so this is always `Some`.
    fn mac(&self, payload: &str) -> Option<Hmac<Sha256>> {
        let mut m = Hmac::<Sha256>::new_from_slice(self.key.expose()).ok()?;
        m.update(b"aftercare-token:v1:");
        m.update(self.purpose.as_bytes());
        m.update(b".");
        m.update(payload.as_bytes());
        Some(m)
    }

    /// Signs claims valid until `expires`.
    pub fn sign<T: Serialize>(&self, claims: &T, expires: DateTime<Utc>) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let env = Envelope {
            exp: expires.timestamp(),
            n: B64URL.encode(nonce),
            claims,
        };
        let json = serde_json::to_vec(&env).unwrap_or_default();
        let payload = B64URL.encode(json);
        let sig = self
            .mac(&payload)
            .map(|m| B64URL.encode(m.finalize().into_bytes()))
            .unwrap_or_default();
        format!("{payload}.{sig}")
    }

    /// Checks a token: the signature first (constant time), then the expiry, then parses.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<T, TokenError> {
        if token.len() > 4096 {
            return Err(TokenError::Malformed);
        }
        let (payload, sig) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let sig = B64URL.decode(sig).map_err(|_| TokenError::Malformed)?;
        self.mac(payload)
            .ok_or(TokenError::Forged)?
            .verify_slice(&sig)
            .map_err(|_| TokenError::Forged)?;
        let json = B64URL.decode(payload).map_err(|_| TokenError::Malformed)?;
        let env: Envelope<T> = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if now.timestamp() > env.exp {
            return Err(TokenError::Expired(
                DateTime::from_timestamp(env.exp, 0).unwrap_or(now),
            ));
        }
        Ok(env.claims)
    }
}
