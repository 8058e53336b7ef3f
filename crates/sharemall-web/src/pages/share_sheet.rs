//! The share sheet on product, shop, group and bargain pages: "share" makes the visitor's own
//! share (its parent is the share that brought them, so re-shares grow the fission tree) and the
//! page comes back with the link, the 口令, the QR code and the poster.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;
use sharemall_app::shares::{self, ShareForms};
use sharemall_domain::{BargainId, Error, GroupId, ProductId, ShopId};
use sharemall_store::model::{BargainView, GroupDetail};

use super::{Ctx, PageResult, safe_next, see_other};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/shares/new", post(make_share))
}

/// What the sheet shows: the button, or the share just made.
pub struct ShareSheet {
    pub shop_id: String,
    /// Empty when the shop itself is shared.
    pub product_id: String,
    /// Set when a group is shared: the link lands on the group's page.
    pub group_id: String,
    /// Set when a bargain is shared: the link lands on the bargain's page.
    pub bargain_id: String,
    pub signed_in: bool,
    /// The page to come back to.
    pub back: String,
    pub forms: Option<ShareForms>,
}

impl ShareSheet {
    /// The sheet for `shop` (and `product`); `share` is the `?share=` of a share just made.
    pub async fn build(
        state: &AppState,
        ctx: &Ctx,
        shop: ShopId,
        product: Option<ProductId>,
        share: Option<&str>,
    ) -> Result<ShareSheet, Error> {
        let forms = match (&ctx.user, share) {
            (Some(user), Some(code)) => shares::own_forms(&state.app, user, code).await?,
            _ => None,
        };
        let back = ctx.here.split(['?', '#']).next().unwrap_or("/").to_string();
        Ok(ShareSheet {
            shop_id: shop.to_string(),
            product_id: product.map(|p| p.to_string()).unwrap_or_default(),
            group_id: String::new(),
            bargain_id: String::new(),
            signed_in: ctx.user.is_some(),
            back,
            forms,
        })
    }

    /// The sheet of a group's page: sharing it makes a share that lands on the group.
    pub async fn for_group(state: &AppState, ctx: &Ctx, group: &GroupDetail, share: Option<&str>) -> Result<ShareSheet, Error> {
        let mut sheet = ShareSheet::build(state, ctx, group.shop_id, Some(group.product_id), share).await?;
        sheet.group_id = group.id.to_string();
        Ok(sheet)
    }

    /// The sheet of a bargain's page: sharing it makes a share that lands on the bargain.
    pub async fn for_bargain(state: &AppState, ctx: &Ctx, bargain: &BargainView, share: Option<&str>) -> Result<ShareSheet, Error> {
        let mut sheet = ShareSheet::build(state, ctx, bargain.shop_id, Some(bargain.product_id), share).await?;
        sheet.bargain_id = bargain.id.to_string();
        Ok(sheet)
    }
}

#[derive(Debug, Deserialize)]
struct ShareForm {
    shop: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    bargain: String,
    back: String,
}

async fn make_share(State(state): State<AppState>, ctx: Ctx, Form(form): Form<ShareForm>) -> PageResult {
    let user = ctx.user()?;
    let shop: ShopId = form.shop.parse().map_err(|_| Error::not_found("shop"))?;
    let product =
        if form.product.is_empty() { None } else { Some(form.product.parse::<ProductId>().map_err(|_| Error::not_found("product"))?) };
    let made = if !form.group.is_empty() {
        let group: GroupId = form.group.parse().map_err(|_| Error::not_found("group"))?;
        shares::create_for_group(&state.app, user, group).await?
    } else if !form.bargain.is_empty() {
        let bargain: BargainId = form.bargain.parse().map_err(|_| Error::not_found("bargain"))?;
        shares::create_for_bargain(&state.app, user, bargain).await?
    } else {
        shares::create_from_page(&state.app, user, shop, product).await?
    };
    let back = safe_next(Some(&form.back));
    let back = back.split(['?', '#']).next().unwrap_or("/");
    Ok(see_other(&format!("{back}?share={}#share", made.code)))
}
