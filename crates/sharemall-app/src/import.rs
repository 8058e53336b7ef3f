//! CSV import of products.
