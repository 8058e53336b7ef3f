//! "My groups" and the inbox: a customer's group orders with their groups as they read now, and
//! the messages the platform left them (a group succeeded, completed by the platform, failed).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use sharemall_app::{groups, inbox};

use super::{Ctx, Nav, PageResult, fmt_time, render, yuan};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new().route("/me/groups", get(my_groups)).route("/me/inbox", get(my_inbox))
}

pub struct MyGroupRow {
    pub title: String,
    pub group_price: String,
    pub href: String,
    pub status: String,
    pub status_label: &'static str,
    pub order_label: &'static str,
    pub progress: String,
    pub leader: bool,
}

#[derive(Template)]
#[template(path = "my_groups.html")]
struct MyGroupsPage {
    t: &'static Strings,
    nav: Nav,
    rows: Vec<MyGroupRow>,
}

async fn my_groups(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let list = groups::my_groups(&state.app, user, Some(1), Some(50)).await?;
    let t = ctx.t;
    let rows = list
        .iter()
        .map(|g| MyGroupRow {
            title: g.title.clone(),
            group_price: yuan(g.group_price_fen),
            href: g.group_id.as_ref().map_or_else(|| format!("/orders/{}", g.order_id), |id| format!("/groups/{id}")),
            status: g.group_status.clone().unwrap_or_default(),
            status_label: g.group_status.as_deref().map_or(t.group_opens_when_paid, |s| t.group_status(s)),
            order_label: t.status(&g.order_status),
            progress: match (g.paid, g.size) {
                (Some(paid), Some(size)) => format!("{paid}/{size}"),
                _ => String::new(),
            },
            leader: g.leader,
        })
        .collect();
    render(&MyGroupsPage { t, nav: ctx.nav("me"), rows })
}

pub struct MessageRow {
    pub text: &'static str,
    pub href: String,
    pub at: String,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    t: &'static Strings,
    nav: Nav,
    messages: Vec<MessageRow>,
}

/// The inbox, newest first; opening it marks everything read.
async fn my_inbox(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let list = inbox::messages(&state.app, user, 1).await?;
    let messages = list
        .iter()
        .map(|m| MessageRow {
            text: ctx.t.inbox_text(&m.kind),
            href: m.params["group_id"].as_str().map(|g| format!("/groups/{g}")).unwrap_or_default(),
            at: fmt_time(m.created_at),
            unread: m.read_at.is_none(),
        })
        .collect();
    if list.iter().any(|m| m.read_at.is_none()) {
        inbox::mark_all_read(&state.app, user).await?;
    }
    render(&InboxPage { t: ctx.t, nav: ctx.nav("me"), messages })
}
