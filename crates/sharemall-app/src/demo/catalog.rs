//! The demo catalogue.
