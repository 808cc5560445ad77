//! The flows: business rules written against the traits only. Adapters translate; flows
//! decide.

pub mod privacy;
pub mod replies;
