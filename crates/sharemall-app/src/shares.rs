//! Sharing use cases: make a share, follow one (recording the visit and binding the visitor),
//! and find a share in pasted chat text (口令).

use serde::Serialize;
use sharemall_domain::share::{Channel, ShareCode, device_class, extract_codes, kouling};
use sharemall_domain::{Error, ErrorCode, ProductId, ShopId};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::shares::{self, NewShare, ResolvedShare, ShareTarget, Visit, VisitCommand};
use sharemall_store::ops::{catalog, shops};
use utoipa::ToSchema;

use crate::App;

/// A share as its sharer gets it back: the code and every form to send it in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareForms {
    pub code: String,
    /// The short link, `/s/{code}`, on the platform's public URL.
    pub url: String,
    /// The 口令 text to paste into a chat.
    pub kouling: String,
}

/// Where a share leads.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareLanding {
    pub code: String,
    pub target_kind: String,
    pub target_id: String,
    pub shop_id: String,
    /// The page to open: the product in its shop, or the shop.
    pub path: String,
}

fn landing(share: &ResolvedShare) -> ShareLanding {
    let path = match share.target_kind.as_str() {
        "product" => format!("/shops/{}/products/{}", share.shop_id, share.target_id),
        _ => format!("/shops/{}", share.shop_id),
    };
    ShareLanding {
        code: share.code.clone(),
        target_kind: share.target_kind.clone(),
        target_id: share.target_id.clone(),
        shop_id: share.shop_id.to_string(),
        path,
    }
}

pub(crate) fn new_code() -> ShareCode {
    ShareCode::from_random(rand::random::<[u8; 16]>())
}

/// Shares a product of a shop, or the shop itself. `parent` is the share through which the
/// sharer arrived (it builds the fission tree).
pub async fn create(
    app: &App,
    sharer: &SessionUser,
    shop: ShopId,
    product: Option<ProductId>,
    channel: Channel,
    parent: Option<ShareCode>,
) -> Result<ShareForms, Error> {
    let target = product.map_or(ShareTarget::Shop, ShareTarget::Product);
    let new = NewShare { code: new_code(), target, shop, sharer: sharer.user_id, parent, channel, expires_at: None };
    let now = app.now();
    let code = new.code.clone();
    app.store.write(move |sql| shares::create_share(sql, now, &new)).await?;
    let title = app
        .store
        .read(move |sql| match product {
            Some(product) => Ok(catalog::load_product(sql, product, catalog::Viewer::Public)?.title),
            None => Ok(shops::load_shop(sql, shop)?.name),
        })
        .await?;
    Ok(ShareForms {
        url: format!("{}/s/{}", app.config.public_url, code.as_str()),
        kouling: kouling(&code, &title),
        code: code.as_str().to_string(),
    })
}

/// Refuses an address that has tried too many unknown codes (a scraper enumerating them).
pub(crate) fn guard(app: &App, client_addr: &str) -> Result<(), Error> {
    if app.share_misses.allowed(client_addr, app.now().millis()) {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::RateLimited, "too many unknown share codes; try again later"))
    }
}

/// Counts a `not_found` answer against the address (see [`guard`]).
pub(crate) fn count_miss(app: &App, client_addr: &str, result: &Result<impl Sized, Error>) {
    if result.as_ref().is_err_and(|e| e.code == ErrorCode::NotFound) {
        app.share_misses.record_failure(client_addr, app.now().millis());
    }
}

/// Follows a share link: records the visit, binds the visitor per the platform's policy, and
/// says where to go. `visitor` is `u:<user id>` or `a:<cookie id>`.
pub async fn follow(app: &App, code: &str, visitor: &str, user_agent: &str, client_addr: &str) -> Result<(ShareLanding, Visit), Error> {
    guard(app, client_addr)?;
    let result = async {
        let code = ShareCode::parse(code)?;
        let visit = VisitCommand {
            now: app.now(),
            code,
            visitor: visitor.to_string(),
            device: device_class(user_agent).to_string(),
            policy: app.config.binding,
        };
        app.store.record_visit(visit).await
    }
    .await;
    count_miss(app, client_addr, &result);
    let visit = result?;
    Ok((landing(&visit.share), visit))
}

/// Finds the first live share in pasted text (a 口令 with any chat text around it, or a short
/// link). No live code in the text is "not found", never an error of ours.
pub async fn resolve_text(app: &App, text: &str, client_addr: &str) -> Result<ShareLanding, Error> {
    guard(app, client_addr)?;
    let codes: Vec<ShareCode> = extract_codes(text).into_iter().take(5).collect();
    let now = app.now();
    let result = app
        .store
        .read(move |sql| {
            for code in &codes {
                match shares::resolve(sql, now, code) {
                    Ok(share) => return Ok(share),
                    Err(e) if e.code == ErrorCode::NotFound => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(Error::new(ErrorCode::NotFound, "no share found in this text"))
        })
        .await;
    count_miss(app, client_addr, &result);
    result.map(|share| landing(&share))
}

/// After sign-in, an anonymous visitor's binding becomes the account's (unless it has one).
pub async fn carry_over_binding(app: &App, anonymous_id: &str, user: &SessionUser) -> Result<Option<ShopId>, Error> {
    let (anonymous, account) = (format!("a:{anonymous_id}"), format!("u:{}", user.user_id));
    app.store.write(move |sql| shares::carry_over(sql, &anonymous, &account)).await
}

/// The shop a signed-in customer is bound to, if any: where their orders through the platform
/// (not through a particular shop) go.
pub async fn bound_shop(app: &App, user: &SessionUser) -> Result<Option<ShopId>, Error> {
    let visitor = format!("u:{}", user.user_id);
    app.store.read(move |sql| shares::binding_of(sql, &visitor)).await
}

/// Where a product bought through the platform is sold: the visitor's bound shop when it
/// carries the product (SPEC 3.3: the order goes to the bound shop), else the longest-standing
/// seller. `visitor` is `u:<user id>` or `a:<cookie id>`, or `None` for a first visit.
pub async fn seller_for(app: &App, product: ProductId, visitor: Option<String>) -> Result<ShopId, Error> {
    app.store
        .read(move |sql| {
            let bound = match &visitor {
                Some(visitor) => shares::binding_of(sql, visitor)?,
                None => None,
            };
            shops::seller_for(sql, product, bound)?.ok_or_else(|| Error::not_found("shop selling this product"))
        })
        .await
}
