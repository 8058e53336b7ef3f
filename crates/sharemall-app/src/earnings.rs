//! Commission for the people who earn it: the earnings view, and the settlement sweep that
//! makes commission available once its return window has closed.

use sharemall_domain::Error;
use sharemall_store::model::SessionUser;
use sharemall_store::ops::earnings::{self, Earnings};
use sharemall_store::ops::settlement::{self, SETTLE_BATCH};

use crate::App;
use crate::catalog::clamp_page;

/// Most settlement batches one sweep runs, so a backlog cannot hold the job round for long;
/// the next round goes on where this one stopped.
pub const SETTLE_BATCHES_PER_SWEEP: usize = 10;

/// The caller's balances and the commission of each order line they earned on.
pub async fn my_earnings(app: &App, user: &SessionUser, page: Option<i64>, per_page: Option<i64>) -> Result<Earnings, Error> {
    let (page, per_page) = clamp_page(page, per_page);
    let user = user.user_id;
    app.store.read(move |sql| earnings::earnings(sql, user, page, per_page)).await
}

/// Settles due commission in bounded batches; returns how many commissions settled. Asks a
/// reader first, so an idle round costs the writer nothing.
pub async fn settle_due(app: &App) -> Result<usize, Error> {
    let mut settled = 0;
    for _ in 0..SETTLE_BATCHES_PER_SWEEP {
        let now = app.now();
        if !app.store.read(move |sql| settlement::any_due(sql, now)).await? {
            break;
        }
        let batch = app.store.write(move |sql| settlement::settle_due(sql, now, SETTLE_BATCH)).await?;
        settled += batch;
        if batch < SETTLE_BATCH as usize {
            break;
        }
    }
    Ok(settled)
}
