//! The rules for the text fields of products sent through the API, as the domain states them
//! (`shoplook_domain::rules`). `openapi.json` states them again as JSON Schema patterns; the
//! test in `ops.rs` checks that both say the same.

pub use shoplook_domain::rules::{FieldRule, PRODUCT_FIELDS, check_product, check_text};
