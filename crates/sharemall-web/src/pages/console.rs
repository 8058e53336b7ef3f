//! The shop owner's, supplier's and operator's consoles.

use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
