//! Share statistics for the shop owner: "My shares" (我的分享), the fission tree of their shop
//! with every share's numbers, and each sharer's totals.

use sharemall_domain::Error;
use sharemall_store::model::SessionUser;
use sharemall_store::ops::share_stats::{self, RootPage, ShopShareStats};

use crate::App;
use crate::shops::own_shop;

/// The caller's own shop's share statistics, one page of root shares at a time (see
/// [`share_stats::MAX_ROOTS_PER_PAGE`]). Only the shop's owner sees them: anyone else is
/// `forbidden`, or `no_shop` before they open one.
pub async fn my_shares(app: &App, user: &SessionUser, page: Option<i64>, per_page: Option<i64>) -> Result<ShopShareStats, Error> {
    let shop = own_shop(user)?;
    let page = RootPage::new(page, per_page);
    app.store.read(move |sql| share_stats::shop_share_stats(sql, shop, page)).await
}
