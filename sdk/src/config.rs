//! Configuration types shared by integrations: read from TOML or JSON, with a JSON Schema
//! (feature `schemars`) at `schemas/config.json`.
//!
//! Secrets are never written in the file itself by default: a [`SecretRef`] names the
//! environment variable that holds it.
//!
//! ```
//! let cfg: aftercare::config::Config = serde_json::from_value(serde_json::json!({
//!     "storage": { "sqlite": { "path": "aftercare.db" } },
//!     "webhooks": [{ "name": "native", "scheme": "standard_webhooks", "secrets": [{ "env": "AFTERCARE_WEBHOOK_SECRET" }] }]
//! })).unwrap();
//! assert_eq!(cfg.server.bind, "127.0.0.1:8080");
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::backoff::RetryPolicy;
use crate::webhook::Secret;

/// Where a secret comes from.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum SecretRef {
    /// Read from an environment variable.
    Env {
        /// The variable's name.
        env: String,
    },
    /// Written in the file (for local demos only).
    Inline {
        /// The secret itself.
        value: String,
    },
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::Env { env } => write!(f, "SecretRef::Env({env})"),
            SecretRef::Inline { .. } => f.write_str("SecretRef::Inline(***)"),
        }
    }
}

impl SecretRef {
    /// Resolves the secret; a missing variable is a configuration error naming it.
    pub fn resolve(&self) -> Result<Secret, Error> {
        match self {
            SecretRef::Env { env } => std::env::var(env).map(Secret::from).map_err(|_| {
                Error::Config(format!(
                    "the environment variable `{env}` is not set; export it with the secret"
                ))
            }),
            SecretRef::Inline { value } => Ok(Secret::from(value.as_str())),
        }
    }
}

/// The whole configuration of an integration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// The HTTP server.
    #[serde(default)]
    pub server: ServerConfig,
    /// Where state is kept.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Webhook sources served at `/webhooks/{name}`.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    /// How messages are dispatched.
    #[serde(default)]
    pub dispatch: DispatchConfig,
    /// How long personal data is kept.
    #[serde(default)]
    pub retention: RetentionConfig,
}

/// The HTTP server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Address to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// The public base URL (for links in messages), e.g. `https://shop.example/aftercare`.
    #[serde(default)]
    pub public_url: Option<String>,
}

fn default_bind() -> String {
    "127.0.0.1:8080".into()
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            public_url: None,
        }
    }
}

/// Where state is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum StorageConfig {
    /// One SQLite file: the embedded default.
    Sqlite {
        /// The file's path.
        path: String,
    },
    /// A PostgreSQL database shared by several instances.
    Postgres {
        /// Connection URL; `env:NAME` reads it from a variable.
        url: SecretRef,
    },
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig::Sqlite {
            path: "aftercare.db".into(),
        }
    }
}

/// The signing family of a webhook source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SchemeKind {
    /// Aftercare's own events, Standard Webhooks signatures.
    StandardWebhooks,
    /// Base64 HMAC-SHA256 of the body in a header.
    HmacSha256Base64,
    /// Hex HMAC-SHA256 of the body in a header.
    HmacSha256Hex,
}

/// One webhook source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookConfig {
    /// Served at `/webhooks/{name}`.
    pub name: String,
    /// Signing family.
    pub scheme: SchemeKind,
    /// Signature header (HMAC schemes).
    #[serde(default)]
    pub header: Option<String>,
    /// Active secrets, the current one first (several during a rotation).
    pub secrets: Vec<SecretRef>,
    /// Largest body accepted, in bytes.
    #[serde(default)]
    pub max_body_bytes: Option<usize>,
    /// Replay window for signed timestamps, in seconds.
    #[serde(default)]
    pub tolerance_secs: Option<u64>,
}

/// How messages are dispatched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DispatchConfig {
    /// First retry delay, seconds.
    #[serde(default = "default_base")]
    pub retry_base_secs: u64,
    /// Longest retry delay, seconds.
    #[serde(default = "default_max")]
    pub retry_max_secs: u64,
    /// Attempts before a message is dead-lettered.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Messages sent concurrently.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_base() -> u64 {
    10
}
fn default_max() -> u64 {
    3600
}
fn default_attempts() -> u32 {
    8
}
fn default_concurrency() -> usize {
    8
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            retry_base_secs: default_base(),
            retry_max_secs: default_max(),
            max_attempts: default_attempts(),
            concurrency: default_concurrency(),
        }
    }
}

impl DispatchConfig {
    /// The retry policy these settings describe.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::new(
            Duration::from_secs(self.retry_base_secs),
            Duration::from_secs(self.retry_max_secs),
            self.max_attempts,
        )
    }
}

/// How long personal data is kept (see [`crate::flows::privacy`] for what expires).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetentionConfig {
    /// Days personal data is kept before it is anonymised or deleted (at least 1).
    #[serde(default = "default_retention_days")]
    #[cfg_attr(feature = "schemars", schemars(range(min = 1)))]
    pub days: u32,
}

fn default_retention_days() -> u32 {
    crate::flows::privacy::DEFAULT_RETENTION_DAYS
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            days: default_retention_days(),
        }
    }
}

impl RetentionConfig {
    /// The retention policy these settings describe.
    pub fn policy(&self) -> crate::flows::privacy::RetentionPolicy {
        crate::flows::privacy::RetentionPolicy::days(self.days)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn retention_defaults_to_a_year_and_is_configurable() {
        let cfg: Config = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(cfg.retention.days, 365);
        assert_eq!(cfg.retention.policy().retention_days(), 365);
        let cfg: Config =
            serde_json::from_value(serde_json::json!({ "retention": { "days": 90 } })).unwrap();
        assert_eq!(cfg.retention.policy().retention_days(), 90);
        assert!(
            serde_json::from_value::<Config>(serde_json::json!({ "retention": { "dayz": 9 } }))
                .is_err(),
            "unknown keys are refused"
        );
    }
}
