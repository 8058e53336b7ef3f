//! Demo platform data.
pub mod catalog;
