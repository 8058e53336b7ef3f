//! HTTP integration tests: the real server on a random port, a fresh database per test (SQLite,
//! or PostgreSQL when `SHAREMALL_TEST_POSTGRES_URL` is set), driven by a real HTTP client.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod accounts;
mod after_sales;
mod bad_input;
mod bargain_pages;
mod bargains;
mod catalog;
mod group_campaigns;
mod group_pages;
mod groups;
mod helpers;
mod money;
mod money_pages;
mod orders;
mod payments;
mod policy;
mod return_pages;
mod scoping;
mod share_media;
mod share_stats;
mod shares;
mod wechat;
