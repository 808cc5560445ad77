//! Per-shop secrets at rest: ChaCha20-Poly1305 under named keys from the environment, with
//! rotation.
//!
//! A sealed value is `ac1:{key id}:{base64(nonce ‖ ciphertext)}`, bound (as associated data)
//! to the shop and the secret's name: a value copied into another shop's row, or into
//! another field, does not open. The first key of the ring seals; every key opens, so a
//! rotation is: put the new key first, keep the old one after it, run
//! [`Tenancy::rotate_keys`](super::Tenancy::rotate_keys) (every secret re-sealed under the
//! new key), then drop the old key.

use std::fmt;

use crate::Error;
use crate::model::ShopId;
use crate::platform::token::TokenCipher;

const PREFIX: &str = "ac1";

/// The environment variable [`Keyring::from_env`] reads by default.
pub const KEYS_ENV: &str = "AFTERCARE_SHOP_KEYS";

/// Named 32-byte keys; the first seals, all open. `Debug` shows the key ids only.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<(String, TokenCipher)>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field(
                "ids",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Keyring {
    /// A ring of one key.
    pub fn new(id: &str, key: &[u8]) -> Result<Self, Error> {
        Self::default_empty().with_key(id, key)
    }

    fn default_empty() -> Self {
        Self { keys: Vec::new() }
    }

    /// Adds an older key, used only to open (keys added later never seal).
    pub fn with_key(mut self, id: &str, key: &[u8]) -> Result<Self, Error> {
        if !valid_id(id) {
            return Err(Error::Config(format!(
                "invalid shop key id `{id}`: use 1 to 32 ASCII letters, digits, `-` or `_`"
            )));
        }
        if self.keys.iter().any(|(k, _)| k == id) {
            return Err(Error::Config(format!(
                "the shop key id `{id}` is given twice"
            )));
        }
        self.keys
            .push((id.to_owned(), TokenCipher::from_bytes(key)?));
        Ok(self)
    }

    /// Parses `id:base64,id:base64,...` (32-byte keys; the first one seals), the format of
    /// [`KEYS_ENV`]. The error never contains key material.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut ring = Self::default_empty();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = part.split_once(':').ok_or_else(|| {
                Error::Config(
                    "shop keys must be `id:base64key[,id:base64key...]` (e.g. `k2:...,k1:...`)"
                        .into(),
                )
            })?;
            let cipher = TokenCipher::from_base64(key).map_err(|_| {
                Error::Config(format!(
                    "the shop key `{id}` is not the base64 text of 32 bytes (`openssl rand -base64 32`)"
                ))
            })?;
            if !valid_id(id) || ring.keys.iter().any(|(k, _)| k == id) {
                return Err(Error::Config(format!(
                    "invalid or repeated shop key id `{id}`"
                )));
            }
            ring.keys.push((id.to_owned(), cipher));
        }
        if ring.keys.is_empty() {
            return Err(Error::Config(format!(
                "no shop encryption key: set {KEYS_ENV}=k1:$(openssl rand -base64 32)"
            )));
        }
        Ok(ring)
    }

    /// The ring from the environment variable `var` (usually [`KEYS_ENV`]).
    pub fn from_env(var: &str) -> Result<Self, Error> {
        let text = std::env::var(var).map_err(|_| {
            Error::Config(format!(
                "{var} is not set: set it to k1:$(openssl rand -base64 32)"
            ))
        })?;
        Self::parse(&text)
    }

    /// The id of the key that seals.
    pub fn primary(&self) -> &str {
        self.keys.first().map(|(id, _)| id.as_str()).unwrap_or("")
    }

    fn aad(shop: &ShopId, name: &str) -> String {
        format!("aftercare-shop-secret:v1:{}:{name}", shop.as_str())
    }

    /// Seals `plain` for `shop`'s secret `name` under the primary key.
    pub fn seal(&self, shop: &ShopId, name: &str, plain: &[u8]) -> Result<String, Error> {
        let (id, cipher) = self
            .keys
            .first()
            .ok_or_else(|| Error::Config("the shop keyring is empty".into()))?;
        let body = cipher.seal(&Self::aad(shop, name), plain)?;
        Ok(format!("{PREFIX}:{id}:{body}"))
    }

    /// Opens a value [`seal`](Self::seal) made for the same shop and name, with any key of
    /// the ring.
    pub fn open(&self, shop: &ShopId, name: &str, sealed: &str) -> Result<Vec<u8>, Error> {
        let refused = |why: &str| {
            Error::Config(format!(
                "the stored secret `{name}` of shop `{shop}` does not open: {why}"
            ))
        };
        let mut parts = sealed.splitn(3, ':');
        let (Some(PREFIX), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(refused("not a sealed value"));
        };
        let (_, cipher) = self.keys.iter().find(|(k, _)| k == id).ok_or_else(|| {
            refused(&format!(
                "its key `{id}` is not in the keyring (was it removed before rotating?)"
            ))
        })?;
        cipher
            .open(&Self::aad(shop, name), body)
            .map_err(|_| refused("wrong key, or sealed for another shop or secret"))
    }

    /// Whether `sealed` is under a key other than the primary one.
    pub fn needs_rotation(&self, sealed: &str) -> bool {
        let mut parts = sealed.splitn(3, ':');
        !(parts.next() == Some(PREFIX) && parts.next() == Some(self.primary()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(k: &[u8; 32]) -> String {
        base64::engine::general_purpose::STANDARD.encode(k)
    }

    #[test]
    fn seals_bound_to_shop_and_name() {
        let ring = Keyring::new("k1", &[7; 32]).unwrap();
        let a = ShopId::new("a.myshopify.com");
        let b = ShopId::new("b.myshopify.com");
        let sealed = ring.seal(&a, "access_token", b"shpat_secret").unwrap();
        assert!(sealed.starts_with("ac1:k1:"));
        assert!(!sealed.contains("shpat_secret"));
        assert_eq!(
            ring.open(&a, "access_token", &sealed).unwrap(),
            b"shpat_secret"
        );
        // Copied to another shop's row, or another field: refused.
        assert!(ring.open(&b, "access_token", &sealed).is_err());
        assert!(ring.open(&a, "webhook_secret", &sealed).is_err());
        // Sealing twice gives different text (random nonce).
        assert_ne!(
            sealed,
            ring.seal(&a, "access_token", b"shpat_secret").unwrap()
        );
    }

    #[test]
    fn rotation_opens_old_and_seals_new() {
        let shop = ShopId::new("a");
        let old = Keyring::new("k1", &[1; 32]).unwrap();
        let sealed_old = old.seal(&shop, "t", b"x").unwrap();
        let ring = Keyring::parse(&format!("k2:{},k1:{}", b64(&[2; 32]), b64(&[1; 32]))).unwrap();
        assert_eq!(ring.primary(), "k2");
        assert!(ring.needs_rotation(&sealed_old));
        assert_eq!(ring.open(&shop, "t", &sealed_old).unwrap(), b"x");
        let sealed_new = ring.seal(&shop, "t", b"x").unwrap();
        assert!(!ring.needs_rotation(&sealed_new));
        // Once the old key is dropped, the new value still opens and the old one does not.
        let only_new = Keyring::new("k2", &[2; 32]).unwrap();
        assert_eq!(only_new.open(&shop, "t", &sealed_new).unwrap(), b"x");
        let e = only_new.open(&shop, "t", &sealed_old).unwrap_err();
        assert!(e.to_string().contains("not in the keyring"), "{e}");
        // A key id reused with other bytes does not open either.
        let impostor = Keyring::new("k1", &[9; 32]).unwrap();
        assert!(impostor.open(&shop, "t", &sealed_old).is_err());
    }

    #[test]
    fn parse_refuses_bad_rings_without_echoing_keys() {
        for bad in ["", "k1", "k1:notbase64!!", "k1:AAAA", "a b:x"] {
            let e = Keyring::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("AAAA") && !e.contains("notbase64"), "{e}");
        }
        let k = b64(&[3; 32]);
        assert!(Keyring::parse(&format!("k1:{k},k1:{k}")).is_err());
        let ring = Keyring::parse(&format!(" k1:{k} ")).unwrap();
        assert!(!format!("{ring:?}").contains(&k));
    }
}
