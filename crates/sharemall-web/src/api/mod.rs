//! The JSON API under `/api/v1`, one module per context. Every route is registered through
//! `utoipa_axum::routes!`, so the OpenAPI document cannot miss one.

pub mod accounts;
pub mod after_sales;
pub mod bargains;
pub mod catalog;
pub mod group_campaigns;
pub mod groups;
pub mod money;
pub mod orders;
pub mod policy;
pub mod share_media;
pub mod share_stats;
pub mod shares;
pub mod shops;
pub mod wechat_notify;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "sharemall API", description = "Social e-commerce for the S2B2C model. Amounts are integer fen (CNY). Errors: {\"error\":{\"code\",\"message\"}}."),
    // The paths below are relative to where the router is nested; without this, a client of the
    // document (schemathesis, generated SDKs) would call `/orders` instead of `/api/v1/orders`.
    servers((url = "/api/v1")),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// All API routes with their OpenAPI description, relative to `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::routes())
        .merge(catalog::routes())
        .merge(shops::routes())
        .merge(group_campaigns::routes())
        .merge(groups::routes())
        .merge(bargains::routes())
        .merge(orders::routes())
        .merge(after_sales::routes())
        .merge(money::routes())
        .merge(policy::routes())
        .merge(shares::routes())
        .merge(share_stats::routes())
        .merge(share_media::routes())
        .merge(wechat_notify::routes())
}
