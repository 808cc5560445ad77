//! Default sending rates, as [`TokenBucket`]s to share between every task sending from one
//! sender (pass them to `Dispatcher::rate_limit`).
//!
//! Sources: Twilio error pages 21611/30001 (a US long code sends 1 message segment per
//! second; a short code more than 100) and `https://www.twilio.com/docs/whatsapp/best-practices-and-faqs`
//! (WhatsApp through Twilio: 10 messages per second for text by default, 1.5 for media).
//!
//! A permit is one message. A long SMS is several segments, so a US long code sending
//! multi-segment texts should be paced lower ([`per_second`]) or Twilio queues the rest.

use aftercare::ratelimit::TokenBucket;

/// A US long code: 1 message segment per second, no burst.
pub fn us_long_code() -> TokenBucket {
    TokenBucket::new(1.0, 1)
}

/// A short code: 100 segments per second (Twilio documents "more than 100").
pub fn short_code() -> TokenBucket {
    TokenBucket::new(100.0, 1)
}

/// WhatsApp text through Twilio: 10 messages per second by default.
pub fn whatsapp_text() -> TokenBucket {
    TokenBucket::new(10.0, 1)
}

/// WhatsApp media through Twilio: 1.5 messages per second.
pub fn whatsapp_media() -> TokenBucket {
    TokenBucket::new(1.5, 1)
}

/// Any other rate (a raised WhatsApp limit, a 10DLC campaign's throughput).
pub fn per_second(rate: f64) -> TokenBucket {
    TokenBucket::new(rate, 1)
}
