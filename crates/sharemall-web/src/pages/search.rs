//! `/search`: the search box on every page and the 口令 paste box on the home page. Text that
//! carries a live share code (a 口令 with any chat text around it, or a short link) opens the
//! share through `/s/{code}`, so the visit is recorded and binds like a click on the link; any
//! other text searches the catalogue.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;
use sharemall_app::{catalog, shares};
use sharemall_domain::share::extract_codes;
use sharemall_domain::{Error, ErrorCode};

use super::store::Card;
use super::{Ctx, Nav, PageResult, render, see_other};
use crate::AppState;
use crate::extract::ClientAddr;
use crate::i18n::Strings;

/// Longest text the box takes: a pasted chat message, not a document.
const MAX_QUERY_CHARS: usize = 2_000;
const RESULTS: i64 = 40;

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: &'static Strings,
    nav: Nav,
    query: String,
    /// The text held a 口令 that is not (or no longer) live.
    kouling_missing: bool,
    products: Vec<Card>,
}

async fn search(State(state): State<AppState>, ctx: Ctx, ClientAddr(addr): ClientAddr, Query(q): Query<SearchQuery>) -> PageResult {
    if q.q.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::invalid(format!("paste at most {MAX_QUERY_CHARS} characters")).into());
    }
    let text = q.q.trim();
    let has_code = !extract_codes(text).is_empty();
    let mut kouling_missing = false;
    if has_code {
        match shares::resolve_text(&state.app, text, &addr).await {
            Ok(landing) => return Ok(see_other(&format!("/s/{}", landing.code))),
            Err(e) if e.code == ErrorCode::NotFound => kouling_missing = true,
            Err(e) => return Err(e.into()),
        }
    }
    let products =
        if has_code || text.is_empty() { Vec::new() } else { catalog::catalogue(&state.app, Some(text.to_string()), 1, RESULTS).await? };
    render(&SearchPage {
        t: ctx.t,
        nav: ctx.nav("home"),
        query: text.to_string(),
        kouling_missing,
        products: products.iter().map(|p| Card::of(p, None)).collect(),
    })
}
