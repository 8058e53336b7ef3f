//! Store contract tests: every test runs on SQLite, and on PostgreSQL too when
//! `SHAREMALL_TEST_POSTGRES_URL` is set (e.g. `postgres://postgres@127.0.0.1:5432/test`). Each
//! test gets a fresh database: a temporary SQLite file, or a fresh PostgreSQL schema.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "store/harness.rs"]
mod harness;

#[path = "store/after_sales.rs"]
mod after_sales;
#[path = "store/bargain_shares.rs"]
mod bargain_shares;
#[path = "store/bargains.rs"]
mod bargains;
#[path = "store/group_campaigns.rs"]
mod group_campaigns;
#[path = "store/group_races.rs"]
mod group_races;
#[path = "store/groups.rs"]
mod groups;
#[path = "store/idempotency.rs"]
mod idempotency;
#[path = "store/jobs.rs"]
mod jobs;
#[path = "store/joins_batch.rs"]
mod joins_batch;
#[path = "store/ledger.rs"]
mod ledger;
#[path = "store/lifecycle.rs"]
mod lifecycle;
#[path = "store/orders_pg.rs"]
mod orders_pg;
#[path = "store/parcel_cards.rs"]
mod parcel_cards;
#[path = "store/policy.rs"]
mod policy;
#[path = "store/queries.rs"]
mod queries;
#[path = "store/races.rs"]
mod races;
#[path = "store/share_stats.rs"]
mod share_stats;
#[path = "store/shares.rs"]
mod shares;
#[path = "store/visits_batch.rs"]
mod visits_batch;
#[path = "store/withdrawals.rs"]
mod withdrawals;
