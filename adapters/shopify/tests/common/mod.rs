pub mod admin;
pub mod mock;
