//! Default sending rates, as strict [`SlidingWindow`] limits to share between every task
//! sending from one sender (pass them to `Dispatcher::rate_limit`): no second ever holds more
//! than the rate, paced one message at a time.
//!
//! Sources: Twilio error pages 21611/30001 (a US long code sends 1 message segment per
//! second; a short code more than 100) and `https://www.twilio.com/docs/whatsapp/best-practices-and-faqs`
//! (WhatsApp through Twilio: 10 messages per second for text by default, 1.5 for media).
//!
//! A permit is one message. A long SMS is several segments, so a US long code sending
//! multi-segment texts should be paced lower ([`per_second`]) or Twilio queues the rest.

use aftercare::ratelimit::SlidingWindow;

/// A US long code: 1 message segment per second, no burst.
pub fn us_long_code() -> SlidingWindow {
    SlidingWindow::per_second(1.0)
}

/// A short code: 100 segments per second (Twilio documents "more than 100").
pub fn short_code() -> SlidingWindow {
    SlidingWindow::per_second(100.0)
}

/// WhatsApp text through Twilio: 10 messages per second by default.
pub fn whatsapp_text() -> SlidingWindow {
    SlidingWindow::per_second(10.0)
}

/// WhatsApp media through Twilio: 1.5 messages per second (3 in any 2 seconds).
pub fn whatsapp_media() -> SlidingWindow {
    SlidingWindow::per_second(1.5)
}

/// Any other rate (a raised WhatsApp limit, a 10DLC campaign's throughput); see
/// [`SlidingWindow::per_second`] for fractional rates.
pub fn per_second(rate: f64) -> SlidingWindow {
    SlidingWindow::per_second(rate)
}
