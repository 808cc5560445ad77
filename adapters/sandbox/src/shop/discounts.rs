//! The sandbox's discount codes: a stand-in for a platform's discount API
//! ([`DiscountCodes`]), with Shopify's rule that a code's name is unique in a shop, and a
//! way to lose the answer of a creation that did happen (a dropped connection), to test
//! that a retry never makes a second code.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aftercare::Error;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, NewDiscountCode};
use async_trait::async_trait;

/// Discount codes created in the sandbox, by code.
#[derive(Debug, Default)]
pub struct SandboxDiscounts {
    state: Mutex<DiscountState>,
}

#[derive(Debug, Default)]
struct DiscountState {
    codes: BTreeMap<String, NewDiscountCode>,
    next_id: u64,
    lose_answers: u32,
    attempts: u64,
}

impl SandboxDiscounts {
    /// No codes yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, DiscountState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next `n` creations happen but their answer is lost: the caller gets a
    /// retryable error, as after a dropped connection or a crash.
    pub fn lose_next_answers(&self, n: u32) {
        self.state().lose_answers = n;
    }

    /// Every code created, by code.
    pub fn codes(&self) -> BTreeMap<String, NewDiscountCode> {
        self.state().codes.clone()
    }

    /// How many creations were asked for (duplicates included).
    pub fn attempts(&self) -> u64 {
        self.state().attempts
    }
}

#[async_trait]
impl DiscountCodes for SandboxDiscounts {
    async fn create_code(&self, code: &NewDiscountCode) -> Result<CodeCreated, Error> {
        let mut st = self.state();
        st.attempts += 1;
        let key = code.code.to_uppercase();
        if st.codes.contains_key(&key) {
            return Ok(CodeCreated::AlreadyExists);
        }
        st.next_id += 1;
        let id = format!(
            "gid://shopify/DiscountCodeNode/{}",
            1_057_371_000 + st.next_id
        );
        st.codes.insert(key, code.clone());
        if st.lose_answers > 0 {
            st.lose_answers -= 1;
            return Err(Error::Platform {
                operation: "create a discount code".to_owned(),
                status: None,
                message: "the connection dropped before the answer (sandbox)".to_owned(),
                retryable: true,
            });
        }
        Ok(CodeCreated::Created(id))
    }
}
