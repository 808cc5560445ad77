//! Integration tests of `aftercare-tests`, built as one test binary: every file of this folder is a
//! module declared below (one binary per crate keeps link time and disk use down; a
//! new file must be declared here, and `cargo test -p xtask` checks that it is).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod branded_pages;
mod browser;
mod catch_up_poll;
mod dashboard;
mod dashboard_locales;
mod dispatch;
mod email_e2e;
mod feedback_e2e;
mod follow_up;
mod helpdesk_e2e;
mod hydrate;
mod late_complaint_e2e;
mod page_headers;
mod plugin_e2e;
mod plugin_support;
mod quota_gate;
mod recovery;
mod recovery_complaint_e2e;
mod retention_dashboard;
mod schemas;
mod shops_bigcommerce;
mod shops_e2e;
mod shops_fair;
mod shops_health;
mod shops_nuvemshop;
mod shops_settings;
mod shops_woocommerce;
mod stack;
mod survey_page;
mod tracking_e2e;
mod tracking_sources;
mod uncertain;
mod webhook_pipeline;
mod whatsapp_templates;
