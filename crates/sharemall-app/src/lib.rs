//! Use cases of sharemall.

pub mod demo;
pub mod import;
