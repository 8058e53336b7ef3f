//! Share statistics for the shop owner: the fission tree of their shop, a page of root shares at
//! a time, with every share's and every sharer's numbers.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use sharemall_app::share_stats;
use sharemall_store::ops::share_stats::ShopShareStats;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::CurrentUser;

#[derive(Debug, Deserialize, IntoParams)]
pub struct SharesQuery {
    /// Page of root shares, from 1.
    pub page: Option<i64>,
    /// Root shares per page, 1–50 (default 50); each comes with every share made through it,
    /// at most 2,000 shares per page.
    pub per_page: Option<i64>,
}

/// The caller's shop's shares: totals over the whole shop, one page of the fission tree (each
/// share with its depth, parent and numbers) and the top 100 sharers. Orders and GMV count paid
/// orders not fully refunded; GMV is paid less refunded, in fen.
#[utoipa::path(get, path = "/shop/shares", tag = "shares", params(SharesQuery),
    responses((status = 200, body = ShopShareStats), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn my_shares(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<SharesQuery>,
) -> ApiResult<ShopShareStats> {
    Ok(Json(share_stats::my_shares(&state.app, &user, q.page, q.per_page).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(my_shares))
}
