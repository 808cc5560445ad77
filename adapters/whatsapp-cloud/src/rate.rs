//! Default sending rate, as a [`TokenBucket`] to share between every task sending from one
//! business phone number (pass it to `Dispatcher::rate_limit`).
//!
//! Source: `https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput`:
//! 80 messages per second per registered business phone number by default (inbound and
//! outbound, all types), upgraded automatically up to 1,000; numbers shared with the
//! WhatsApp Business app (coexistence) are fixed at 20. Exceeding it returns 130429.

use aftercare::ratelimit::TokenBucket;

/// The Cloud API default: 80 messages per second per phone number.
pub fn cloud_api_default() -> TokenBucket {
    TokenBucket::new(80.0, 1)
}

/// A number shared with the WhatsApp Business app (coexistence): 20 messages per second.
pub fn coexistence() -> TokenBucket {
    TokenBucket::new(20.0, 1)
}

/// Any other rate (an upgraded number: up to 1,000).
pub fn per_second(rate: f64) -> TokenBucket {
    TokenBucket::new(rate, 1)
}
