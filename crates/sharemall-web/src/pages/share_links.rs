//! `/s/{code}`: the short link every share form leads to. Records the visit, binds the visitor,
//! and sends them on to the product or shop. Anonymous visitors get a long-lived visitor cookie
//! so their binding can follow them into an account.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::routing::get;
use sharemall_app::shares;
use sharemall_domain::{Error, ProductId};

use super::{Ctx, PageResult, cookie, see_other, set_cookie};
use crate::AppState;
use crate::extract::ClientAddr;

/// The anonymous visitor cookie.
pub const VISITOR_COOKIE: &str = "sm_visitor";
const VISITOR_MAX_AGE_SECS: i64 = 400 * 24 * 3600;

pub fn routes() -> Router<AppState> {
    Router::new().route("/s/{code}", get(follow)).route("/products/{id}", get(platform_product))
}

/// The anonymous visitor id from the cookie, when it is well-formed.
fn anonymous_id(headers: &HeaderMap) -> Option<String> {
    cookie(headers, VISITOR_COOKIE).filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A product bought through the platform (a tile on the home page) is sold by the visitor's
/// bound shop when it carries it, else by its longest-standing seller.
async fn platform_product(State(state): State<AppState>, ctx: Ctx, headers: HeaderMap, Path(id): Path<String>) -> PageResult {
    let product: ProductId = id.parse().map_err(|_| Error::not_found("product"))?;
    let visitor = match &ctx.user {
        Some(user) => Some(format!("u:{}", user.user_id)),
        None => anonymous_id(&headers).map(|id| format!("a:{id}")),
    };
    let shop = shares::seller_for(&state.app, product, visitor).await?;
    Ok(see_other(&format!("/shops/{shop}/products/{product}")))
}

async fn follow(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> PageResult {
    let anonymous = anonymous_id(&headers);
    let (visitor, new_cookie) = match (&ctx.user, &anonymous) {
        (Some(user), _) => (format!("u:{}", user.user_id), None),
        (None, Some(id)) => (format!("a:{id}"), None),
        (None, None) => {
            // Time-ordered (UUID v7: 74 random bits after the millisecond), so a new visitor's
            // binding and visit rows land at the end of their indexes instead of on a random page
            // each; the random bits keep the id unguessable.
            let id = uuid::Uuid::now_v7().simple().to_string();
            (format!("a:{id}"), Some(id))
        }
    };
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (landing, _) = shares::follow(&state.app, &code, &visitor, user_agent, &addr).await?;
    let mut response = see_other(&landing.path);
    if let Some(value) = new_cookie.and_then(|id| set_cookie(VISITOR_COOKIE, &id, Some(VISITOR_MAX_AGE_SECS), true, state.secure_cookies)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}
