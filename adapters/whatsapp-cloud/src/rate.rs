//! Default sending rate, as a strict [`SlidingWindow`] limit to share between every task
//! sending from one business phone number (pass it to `Dispatcher::rate_limit`): no second
//! ever holds more than the rate.
//!
//! Source: `https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput`:
//! 80 messages per second per registered business phone number by default (inbound and
//! outbound, all types), upgraded automatically up to 1,000; numbers shared with the
//! WhatsApp Business app (coexistence) are fixed at 20. Exceeding it returns 130429.

use aftercare::ratelimit::SlidingWindow;

/// The Cloud API default: 80 messages per second per phone number.
pub fn cloud_api_default() -> SlidingWindow {
    SlidingWindow::per_second(80.0)
}

/// A number shared with the WhatsApp Business app (coexistence): 20 messages per second.
pub fn coexistence() -> SlidingWindow {
    SlidingWindow::per_second(20.0)
}

/// Any other rate (an upgraded number: up to 1,000).
pub fn per_second(rate: f64) -> SlidingWindow {
    SlidingWindow::per_second(rate)
}
