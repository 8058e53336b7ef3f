//! Use cases over [`crate::sql::Sql`], written once for both backends. Each function is one
//! command or one query; writes run inside the batching writer, reads on a reader thread.

pub mod accounts;
pub mod bargain_campaigns;
pub mod bargain_views;
pub mod bargains;
pub mod cart;
pub mod catalog;
pub mod check;
pub mod compliance;
pub mod earnings;
pub mod fulfilment;
pub mod group_campaigns;
pub mod group_views;
pub mod groups;
pub mod idempotency;
pub mod inbox;
pub mod jobs;
pub mod joins_batch;
pub mod ledger;
pub mod ledger_check;
pub mod ledger_orders;
pub mod order_batch;
pub mod orders;
pub mod orders_pg;
pub mod orders_sqlite;
pub mod parcel_cards;
pub mod payments;
pub mod policy;
pub mod sandbox;
pub mod sandbox_payouts;
pub mod settlement;
pub mod share_stats;
pub mod shares;
pub mod shops;
pub mod visits_batch;
pub mod withdrawals;
