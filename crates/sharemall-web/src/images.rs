//! Generated product images.
