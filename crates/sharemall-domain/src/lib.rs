//! Pure business rules of sharemall.
//!
//! This crate knows no SQL, no HTTP and no clock: every rule that depends on time takes `now`
//! as a [`Timestamp`] parameter, so the same rule runs identically in production, in tests with a
//! fake clock and in the deterministic simulation.

pub mod account;
pub mod after_sale;
pub mod bargain;
pub mod catalog;
pub mod compliance;
pub mod error;
pub mod group_buy;
pub mod ids;
pub mod ledger;
pub mod money;
pub mod order;
pub mod parcel_card;
pub mod payment;
pub mod pricing;
pub mod share;
pub mod shop;
pub mod time;

pub use error::{Error, ErrorCode};
pub use ids::*;
pub use money::Money;
pub use time::Timestamp;
