//! Sharing use cases: make a share, follow one (recording the visit and binding the visitor),
//! and find a share in pasted chat text (口令).

use serde::Serialize;
use sharemall_domain::share::{Channel, ShareCode, device_class, extract_codes, kouling};
use sharemall_domain::{BargainId, Error, ErrorCode, GroupId, ProductId, ShopId};
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
    /// The share's QR code (SVG), relative to the platform.
    pub qr_svg: String,
    /// A poster to save and post (PNG), relative to the platform.
    pub poster_png: String,
}

/// Where a share leads.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareLanding {
    pub code: String,
    pub target_kind: String,
    pub target_id: String,
    pub shop_id: String,
    /// The page to open: the group, the bargain, the product in its shop, or the shop.
    pub path: String,
}

fn landing(share: &ResolvedShare) -> ShareLanding {
    let path = match (&share.group_id, &share.bargain_id, share.target_kind.as_str()) {
        (Some(group), _, _) => format!("/groups/{group}"),
        (None, Some(bargain), _) => format!("/bargains/{bargain}"),
        (None, None, "product") => format!("/shops/{}/products/{}", share.shop_id, share.target_id),
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

/// Longest a share may be limited to: a year (a share without a limit never expires).
pub const MAX_VALID_HOURS: i64 = 24 * 366;

/// Shares a product of a shop, or the shop itself. `parent` is the share through which the
/// sharer arrived (it builds the fission tree); `valid_hours` limits how long the share works.
pub async fn create(
    app: &App,
    sharer: &SessionUser,
    shop: ShopId,
    product: Option<ProductId>,
    channel: Channel,
    parent: Option<ShareCode>,
    valid_hours: Option<i64>,
) -> Result<ShareForms, Error> {
    if valid_hours.is_some_and(|h| !(1..=MAX_VALID_HOURS).contains(&h)) {
        return Err(Error::invalid(format!("valid_hours must be 1 to {MAX_VALID_HOURS}")));
    }
    let now = app.now();
    let expires_at = valid_hours.map(|h| now.plus_ms(h * 3_600_000));
    let target = product.map_or(ShareTarget::Shop, ShareTarget::Product);
    let new = NewShare { code: new_code(), target, shop, sharer: sharer.user_id, parent, channel, expires_at };
    let code = new.code.clone();
    app.store.write(move |sql| shares::create_share(sql, now, &new)).await?;
    forms(app, code, shop, product).await
}

/// Shares from a page's share sheet: the parent is whatever share brought the sharer to this
/// shop, so a customer's re-share hangs under the share they came through.
pub async fn create_from_page(app: &App, sharer: &SessionUser, shop: ShopId, product: Option<ProductId>) -> Result<ShareForms, Error> {
    let (now, user) = (app.now(), sharer.user_id);
    let parent = app.store.read(move |sql| shares::arrived_through(sql, now, user, shop)).await?;
    create(app, sharer, shop, product, Channel::Chat, parent, None).await
}

/// Shares a group from its page (拼团分享): a share of the campaign's product in the group's
/// shop whose link lands on the group.
pub async fn create_for_group(app: &App, sharer: &SessionUser, group: GroupId) -> Result<ShareForms, Error> {
    let found = crate::groups::group(app, group).await?;
    create_for_activity(app, sharer, ShareTarget::Group(group), found.shop_id, found.product_id).await
}

/// Shares a bargain from its page (砍价分享): a share of the campaign's product in the
/// bargain's shop whose link lands on the bargain, where friends help. Anyone signed in may
/// share it (a friend passing it on).
pub async fn create_for_bargain(app: &App, sharer: &SessionUser, bargain: BargainId) -> Result<ShareForms, Error> {
    let found = crate::bargains::bargain(app, Some(sharer), bargain).await?;
    create_for_activity(app, sharer, ShareTarget::Bargain(bargain), found.shop_id, found.product_id).await
}

/// A share of a group or a bargain, made from its page in `shop`. The parent is the share that
/// brought the sharer to the shop, as for any page's share.
async fn create_for_activity(
    app: &App,
    sharer: &SessionUser,
    target: ShareTarget,
    shop: ShopId,
    product: ProductId,
) -> Result<ShareForms, Error> {
    let (now, user) = (app.now(), sharer.user_id);
    let parent = app.store.read(move |sql| shares::arrived_through(sql, now, user, shop)).await?;
    let new = NewShare { code: new_code(), target, shop, sharer: user, parent, channel: Channel::Chat, expires_at: None };
    let code = new.code.clone();
    app.store.write(move |sql| shares::create_share(sql, now, &new)).await?;
    forms(app, code, shop, Some(product)).await
}

/// The forms of a share the user made earlier (the share sheet after "share" was pressed);
/// `None` for a code that is not theirs.
pub async fn own_forms(app: &App, sharer: &SessionUser, code: &str) -> Result<Option<ShareForms>, Error> {
    let Ok(code) = ShareCode::parse(code) else { return Ok(None) };
    let user = sharer.user_id;
    let lookup = code.clone();
    let Some(share) = app.store.read(move |sql| shares::own_share(sql, &lookup, user)).await? else { return Ok(None) };
    let product = if share.target_kind == "product" { share.target_id.parse().ok() } else { None };
    forms(app, code, share.shop_id, product).await.map(Some)
}

/// The link, the 口令 and the media of a share of `product` (or of the shop).
async fn forms(app: &App, code: ShareCode, shop: ShopId, product: Option<ProductId>) -> Result<ShareForms, Error> {
    let title = app
        .store
        .read(move |sql| match product {
            Some(product) => Ok(catalog::load_product(sql, product, catalog::Viewer::Public)?.title),
            None => Ok(shops::load_shop(sql, shop)?.name),
        })
        .await?;
    let code_text = code.as_str();
    Ok(ShareForms {
        url: format!("{}/s/{code_text}", app.config.public_url),
        kouling: kouling(&code, &title),
        qr_svg: format!("/api/v1/shares/{code_text}/qr.svg"),
        poster_png: format!("/api/v1/shares/{code_text}/poster.png"),
        code: code_text.to_string(),
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

#[cfg(test)]
mod tests {
    use super::new_code;
    use std::collections::HashSet;

    /// Codes carry no order and no structure: made one after another, they are all different,
    /// rise and fall like coin flips (a counter or a timestamp would only rise), and every
    /// position takes nearly every character.
    #[test]
    fn codes_are_not_predictable_from_earlier_ones() {
        let codes: Vec<String> = (0..10_000).map(|_| new_code().as_str().to_string()).collect();
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len(), "no repeats");
        let rising = codes.windows(2).filter(|w| w[0] < w[1]).count();
        assert!((4_500..=5_500).contains(&rising), "successive codes rise {rising} times in 9,999: they follow an order");
        for position in 0..12 {
            let used: HashSet<u8> = codes.iter().map(|c| c.as_bytes()[position]).collect();
            assert!(used.len() >= 60, "position {position} uses only {} of 62 characters", used.len());
        }
    }
}
