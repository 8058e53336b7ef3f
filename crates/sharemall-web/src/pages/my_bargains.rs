//! "My bargains" (我的砍价): the bargains a customer started, newest first, each with its price
//! now against the floor, the helps so far and where it stands.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use sharemall_app::bargains;

use super::bargains::shown_status;
use super::{Ctx, Nav, PageResult, render, yuan};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new().route("/me/bargains", get(my_bargains))
}

pub struct MyBargainRow {
    pub title: String,
    pub current: String,
    pub floor: String,
    pub helps: String,
    pub href: String,
    pub status: &'static str,
    pub status_label: &'static str,
}

#[derive(Template)]
#[template(path = "my_bargains.html")]
struct MyBargainsPage {
    t: &'static Strings,
    nav: Nav,
    rows: Vec<MyBargainRow>,
}

async fn my_bargains(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let list = bargains::my_bargains(&state.app, user, Some(1), Some(50)).await?;
    let t = ctx.t;
    let rows = list
        .iter()
        .map(|b| {
            let status = shown_status(b);
            MyBargainRow {
                title: b.title.clone(),
                current: yuan(b.current_fen),
                floor: yuan(b.floor_fen),
                helps: format!("{}/{}", b.helps, b.helpers_needed),
                href: format!("/bargains/{}", b.id),
                status,
                status_label: t.bargain_status(status),
            }
        })
        .collect();
    render(&MyBargainsPage { t, nav: ctx.nav("me"), rows })
}
