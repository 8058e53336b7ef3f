//! HTTP face of sharemall.

pub mod images;
