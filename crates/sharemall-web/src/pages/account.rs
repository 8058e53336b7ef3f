//! Sign-in, registration, sign-out, the language switch and the "我的" page.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use sharemall_app::accounts::{self, SignedIn};
use sharemall_domain::account::Role;
use sharemall_store::model::SessionKind;

use super::{Ctx, LANG_COOKIE, Nav, PageError, PageResult, cookie, render, safe_next, see_other, set_cookie, url_encode};
use crate::AppState;
use crate::extract::{ClientAddr, session_cookie_name, session_token};
use crate::i18n::{Lang, Strings};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(signin_page).post(signin))
        .route("/register", get(register_page).post(register))
        .route("/signout", post(signout))
        .route("/lang/{code}", get(switch_lang))
        .route("/me", get(me))
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "signin.html")]
struct AuthPage {
    t: &'static Strings,
    nav: Nav,
    register: bool,
    next: String,
    next_q: String,
}

fn auth_page(ctx: &Ctx, register: bool, next: Option<&str>) -> PageResult {
    let next = safe_next(next);
    render(&AuthPage { t: ctx.t, nav: ctx.nav("me"), register, next_q: url_encode(&next), next })
}

async fn signin_page(ctx: Ctx, Query(q): Query<NextQuery>) -> PageResult {
    auth_page(&ctx, false, q.next.as_deref())
}

async fn register_page(ctx: Ctx, Query(q): Query<NextQuery>) -> PageResult {
    auth_page(&ctx, true, q.next.as_deref())
}

/// Starts the browser session: HttpOnly, SameSite=Lax, Path=/, Secure over HTTPS.
fn signed_in(state: &AppState, signed: SignedIn, next: Option<&str>) -> Response {
    let mut response = see_other(&safe_next(next));
    let max_age = state.app.config.cookie_session_ms / 1000;
    let name = session_cookie_name(state.secure_cookies);
    if let Some(value) = set_cookie(name, &signed.token, Some(max_age), true, state.secure_cookies) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn signin(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> PageResult {
    let signed = accounts::sign_in(&state.app, &form.login, &form.password, &addr, SessionKind::Cookie).await?;
    carry_over_binding(&state, &headers, &signed).await?;
    Ok(signed_in(&state, signed, form.next.as_deref()))
}

/// A visitor who arrived through a share before having an account keeps their shop binding.
async fn carry_over_binding(state: &AppState, headers: &HeaderMap, signed: &SignedIn) -> Result<(), PageError> {
    if let Some(anonymous) = cookie(headers, super::share_links::VISITOR_COOKIE) {
        sharemall_app::shares::carry_over_binding(&state.app, &anonymous, &signed.user).await?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct RegisterForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    display_name: String,
    next: Option<String>,
}

async fn register(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<RegisterForm>) -> PageResult {
    let name = if form.display_name.trim().is_empty() { form.login.trim().to_string() } else { form.display_name.clone() };
    let signed = accounts::register(&state.app, &form.login, &form.password, &name, SessionKind::Cookie).await?;
    carry_over_binding(&state, &headers, &signed).await?;
    Ok(signed_in(&state, signed, form.next.as_deref()))
}

async fn signout(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    if let Some((token, SessionKind::Cookie)) = session_token(&parts, state.secure_cookies) {
        accounts::sign_out(&state.app, &token).await?;
    }
    let mut response = see_other("/");
    if let Some(value) = set_cookie(session_cookie_name(state.secure_cookies), "", Some(0), true, state.secure_cookies) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `/lang/{zh|en}?next=/path`: remembers the language for a year and goes back.
async fn switch_lang(State(state): State<AppState>, Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let mut response = see_other(&safe_next(q.next.as_deref()));
    if let Some(value) = set_cookie(LANG_COOKIE, lang.code(), Some(365 * 24 * 3600), false, state.secure_cookies) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    t: &'static Strings,
    nav: Nav,
    name: String,
    initial: String,
    login: String,
    shop_id: Option<String>,
    is_operator: bool,
    /// Whether this user may open the campaign console (operators, and shop owners).
    group_console: bool,
    unread: i64,
}

async fn me(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let unread = sharemall_app::inbox::unread_count(&state.app, user).await?;
    render(&MePage {
        t: ctx.t,
        nav: ctx.nav("me"),
        name: user.display_name.clone(),
        initial: user.display_name.chars().next().map_or_else(|| "我".to_string(), |c| c.to_string()),
        login: user.login.clone(),
        shop_id: user.shop_id.map(|s| s.to_string()),
        is_operator: user.has(Role::Operator),
        group_console: user.has(Role::Operator) || user.shop_id.is_some(),
        unread,
    })
}
