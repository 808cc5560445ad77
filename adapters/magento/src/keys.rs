//! RSA-SHA256 (PKCS#1 v1.5) signatures, as Adobe signs Commerce webhooks and I/O Events:
//! public keys in PEM (`-----BEGIN PUBLIC KEY-----` as the Commerce Admin shows it, or
//! PKCS#1 `BEGIN RSA PUBLIC KEY`, or either base64-encoded once more as some App Builder
//! setups store it), signatures in base64. Pure Rust (RustCrypto `rsa`), no OpenSSL.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use crate::error::MagentoError;

/// An RSA public key that checks RSA-SHA256 signatures.
#[derive(Clone)]
pub struct PublicKey {
    key: VerifyingKey<Sha256>,
    bits: usize,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(RSA {} bits)", self.bits)
    }
}

/// Keys shorter than this are refused (Adobe Commerce generates 2048-bit keys).
pub const MIN_KEY_BITS: usize = 1024;

impl PublicKey {
    /// Parses a PEM public key (SPKI or PKCS#1), or the same PEM base64-encoded.
    pub fn from_pem(text: &str) -> Result<Self, MagentoError> {
        let text = text.trim().replace("\\n", "\n");
        let pem = if text.contains("-----BEGIN") {
            text
        } else {
            let compact: String = text.split_whitespace().collect();
            let raw = B64.decode(compact.as_bytes()).map_err(|_| {
                MagentoError::Config("the public key is neither PEM nor base64-encoded PEM".into())
            })?;
            String::from_utf8(raw).map_err(|_| {
                MagentoError::Config("the base64-encoded public key is not PEM text".into())
            })?
        };
        let key = RsaPublicKey::from_public_key_pem(pem.trim())
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
            .map_err(|e| MagentoError::Config(format!("the RSA public key does not parse: {e}")))?;
        Self::from_key(key)
    }

    fn from_key(key: RsaPublicKey) -> Result<Self, MagentoError> {
        let bits = key.size() * 8;
        if bits < MIN_KEY_BITS {
            return Err(MagentoError::Config(format!(
                "an RSA key of {bits} bits is too short (at least {MIN_KEY_BITS})"
            )));
        }
        Ok(Self {
            key: VerifyingKey::new(key),
            bits,
        })
    }

    /// Whether `signature_b64` is this key's RSA-SHA256 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature_b64: &str) -> bool {
        let compact: String = signature_b64.split_whitespace().collect();
        let Ok(raw) = B64.decode(compact.as_bytes()) else {
            return false;
        };
        let Ok(sig) = Signature::try_from(raw.as_slice()) else {
            return false;
        };
        self.key.verify(message, &sig).is_ok()
    }
}

/// A private key that signs as Adobe does, for tests, the sandbox and local tools (the
/// store keeps its own key; Aftercare never needs it in production).
#[derive(Clone)]
pub struct TestSigner {
    key: SigningKey<Sha256>,
    public_pem: String,
}

impl fmt::Debug for TestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TestSigner(..)")
    }
}

impl TestSigner {
    /// A new key pair of `bits` bits.
    pub fn generate(bits: usize) -> Result<Self, MagentoError> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), bits)
            .map_err(|e| MagentoError::Config(format!("RSA key generation failed: {e}")))?;
        Self::from_key(key)
    }

    /// A signer from a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, MagentoError> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem.trim()).map_err(|e| {
            MagentoError::Config(format!("the RSA private key does not parse: {e}"))
        })?;
        Self::from_key(key)
    }

    fn from_key(key: RsaPrivateKey) -> Result<Self, MagentoError> {
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| {
                MagentoError::Config(format!("the RSA public key does not encode: {e}"))
            })?;
        Ok(Self {
            key: SigningKey::new(key),
            public_pem,
        })
    }

    /// The public key as the Commerce Admin shows it (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The base64 RSA-SHA256 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.key.sign(message).to_bytes())
    }
}
