//! Server-rendered pages, phone first: the storefront, checkout, orders, the sandbox provider's
//! pay page, group buying and bargaining, and the consoles. Handlers here call `sharemall_app` use cases exactly as the
//! API does and render askama templates; they hold no SQL.
//!
//! Errors from handlers are [`PageError`]s. They leave the handler as a marker, and
//! [`render_errors`] (which knows the request's language) turns them into a friendly page, or a
//! redirect to sign-in when the visitor is not signed in.

mod account;
mod bargains;
mod checkout;
mod console;
mod console_bargains;
mod console_card;
mod console_groups;
mod console_money;
mod console_shares;
mod groups;
mod my_bargains;
mod my_groups;
mod order_form;
mod orders;
mod returns;
mod search;
mod share_links;
mod share_sheet;
mod store;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sharemall_app::accounts;
use sharemall_domain::{Error, ErrorCode, Money};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::idempotency::IdempotencyKey;
use std::sync::LazyLock;

use crate::AppState;
use crate::error::{public_message, status_of};
pub use crate::extract::cookie;
use crate::extract::session_token;
use crate::i18n::{Lang, Strings};

/// Name of the language cookie.
pub const LANG_COOKIE: &str = "lang";
/// Remembers the last shop visited, for the cart tab.
pub const SHOP_COOKIE: &str = "sm_shop";

const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");
/// The tab icon: the brand's red tile with a white share mark. Served at `/favicon.ico` too, so
/// a browser's automatic request never ends in a 404 (a console error on every first page).
const FAVICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" rx=\"7\" fill=\"#e4393c\"/>\
<circle cx=\"10\" cy=\"16\" r=\"3.5\" fill=\"#fff\"/><circle cx=\"22\" cy=\"9\" r=\"3.5\" fill=\"#fff\"/><circle cx=\"22\" cy=\"23\" r=\"3.5\" fill=\"#fff\"/>\
<path d=\"M10 16 22 9M10 16l12 7\" stroke=\"#fff\" stroke-width=\"2.2\"/></svg>";

/// Fingerprint of the static files, appended to their URLs so they can be cached forever.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut both = String::with_capacity(CSS.len() + JS.len());
    both.push_str(CSS);
    both.push_str(JS);
    sharemall_app::tokens::sha256_hex(both.as_bytes()).chars().take(10).collect()
});

/// All page routes.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(store::routes())
        .merge(share_sheet::routes())
        .merge(search::routes())
        .merge(checkout::routes())
        .merge(share_links::routes())
        .merge(account::routes())
        .merge(orders::routes())
        .merge(console::routes())
        .merge(console_shares::routes())
        .merge(console_money::routes())
        .merge(returns::routes())
        .merge(console_card::routes())
        .merge(groups::routes())
        .merge(my_groups::routes())
        .merge(console_groups::routes())
        .merge(bargains::routes())
        .merge(my_bargains::routes())
        .merge(console_bargains::routes())
        .route("/static/app.css", get(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route("/static/app.js", get(|| async { asset("text/javascript; charset=utf-8", JS) }))
        .route("/static/favicon.svg", get(|| async { asset("image/svg+xml", FAVICON) }))
        .route("/favicon.ico", get(|| async { asset("image/svg+xml", FAVICON) }))
        .route("/images/products/{file}", get(store::product_image))
        .route("/images/shops/{file}", get(store::shop_logo))
        .layer(middleware::from_fn_with_state(state, render_errors))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], body).into_response()
}

// ---------------------------------------------------------------------------------------------
// Request context

/// What every page needs to know about the request: language, visitor, and where it is.
pub struct Ctx {
    pub lang: Lang,
    pub t: &'static Strings,
    pub user: Option<SessionUser>,
    /// Path and query of this request, for "come back here" links.
    pub here: String,
}

impl Ctx {
    /// The signed-in user, or `unauthenticated` (which [`render_errors`] turns into a sign-in
    /// redirect).
    pub fn user(&self) -> Result<&SessionUser, PageError> {
        self.user.as_ref().ok_or_else(|| PageError(Error::new(ErrorCode::Unauthenticated, "sign in first")))
    }

    /// The layout's data, with `tab` highlighted in the tab bar.
    pub fn nav(&self, tab: &'static str) -> Nav {
        Nav {
            lang: self.lang.code(),
            switch_href: format!("/lang/{}?next={}", self.t.switch_to_code, url_encode(&self.here)),
            user_name: self.user.as_ref().map(|u| u.display_name.clone()),
            tab,
            v: ASSET_VERSION.as_str(),
            here: self.here.clone(),
        }
    }
}

/// The language of a request: `?lang=` first, then the `lang` cookie, then Chinese.
pub fn request_lang(parts_uri: &axum::http::Uri, headers: &HeaderMap) -> Lang {
    let from_query = parts_uri
        .query()
        .and_then(|q| q.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::parse(v)));
    from_query.or_else(|| cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v))).unwrap_or_default()
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = request_lang(&parts.uri, &parts.headers);
        let user = match parts.extensions.get::<SessionUser>() {
            Some(user) => Some(user.clone()),
            None => match session_token(parts, state.secure_cookies) {
                // An expired or revoked session just means "signed out" on a page.
                Some((token, kind)) => accounts::authenticate(&state.app, &token, kind).await.ok(),
                None => None,
            },
        };
        if let Some(user) = &user {
            parts.extensions.insert(user.clone());
        }
        let here = parts.uri.path_and_query().map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
        Ok(Ctx { lang, t: lang.strings(), user, here })
    }
}

/// Data for the layout (top bar and tab bar).
pub struct Nav {
    pub lang: &'static str,
    pub switch_href: String,
    pub user_name: Option<String>,
    /// `home`, `cart`, `orders`, `me` or empty.
    pub tab: &'static str,
    /// Static asset version.
    pub v: &'static str,
    pub here: String,
}

// ---------------------------------------------------------------------------------------------
// Errors

/// An error on a page. Rendered by [`render_errors`].
#[derive(Debug)]
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError(Error::internal(format!("template: {e}")))
    }
}

#[derive(Clone)]
struct ErrorMarker(Error);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = crate::empty(status_of(self.0.code));
        response.extensions_mut().insert(ErrorMarker(self.0));
        response
    }
}

pub type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: &'static Strings,
    nav: Nav,
    headline: String,
    detail: String,
    code: &'static str,
}

/// Turns [`PageError`] markers into pages, sends signed-out visitors to sign in, and refuses
/// cross-site form posts.
async fn render_errors(State(_state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = request_lang(request.uri(), request.headers());
    let here = request.uri().path_and_query().map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
    let is_get = request.method() == Method::GET;
    let response = if request.method() == Method::POST && !same_origin(request.headers()) {
        PageError(Error::new(ErrorCode::Forbidden, "cross-site form posts are refused")).into_response()
    } else {
        next.run(request).await
    };
    let Some(ErrorMarker(error)) = response.extensions().get::<ErrorMarker>().cloned() else { return response };
    let t = lang.strings();
    if matches!(error.code, ErrorCode::Unauthenticated | ErrorCode::SessionExpired) {
        let next_path = if is_get { here.clone() } else { "/".to_string() };
        return see_other(&format!("/signin?next={}", url_encode(&next_path)));
    }
    let ctx = Ctx { lang, t, user: None, here };
    let message = public_message(&error);
    let page = ErrorPage {
        t,
        nav: ctx.nav(""),
        headline: t.error_headline(error.code).unwrap_or(t.error_title).to_string(),
        detail: message,
        code: error.code.as_str(),
    };
    let status = response.status();
    match page.render() {
        Ok(html) => (status, no_store(), Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            (status, "error").into_response()
        }
    }
}

/// A POST whose `Origin` (when sent) names another host is refused: together with SameSite=Lax
/// cookies this keeps other sites from submitting our forms.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return true };
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    // `null` comes from privacy-sensitive contexts; SameSite=Lax already withholds our cookie there.
    origin == "null" || origin_host.eq_ignore_ascii_case(host)
}

// ---------------------------------------------------------------------------------------------
// Response helpers

fn no_store() -> [(header::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "private, no-store")]
}

/// Renders a template as a private, uncached page.
pub fn render(template: &impl Template) -> PageResult {
    Ok((no_store(), Html(template.render()?)).into_response())
}

/// `303 See Other` to `to` (after a form post).
pub fn see_other(to: &str) -> Response {
    let mut response = crate::empty(StatusCode::SEE_OTHER);
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Only local paths are followed after sign-in or a language switch (no open redirects).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.chars().any(char::is_control) => n.to_string(),
        _ => "/".to_string(),
    }
}

/// A `Set-Cookie` value. `max_age` of `Some(0)` deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>, http_only: bool, secure: bool) -> Option<HeaderValue> {
    let mut text = format!("{name}={value}; Path=/; SameSite=Lax");
    if let Some(age) = max_age_secs {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if http_only {
        text.push_str("; HttpOnly");
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).ok()
}

/// Percent-encodes everything but unreserved characters.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `12.34` from fen (templates put "¥" in front).
pub fn yuan(fen: i64) -> String {
    Money::from_fen(fen).yuan_string()
}

/// `2025-03-01 14:05`, in China time (UTC+8).
pub fn fmt_time(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| t.to_offset(offset).format(&format).unwrap_or_default())
        .unwrap_or_default()
}

/// A fresh random token for a money-moving form: the form's idempotency key.
pub fn form_token() -> String {
    sharemall_app::tokens::new_token()
}

/// The idempotency key of a submitted form: its hidden token, bound to what was submitted, so a
/// double submit replays the first result and a changed resubmission is refused.
pub fn form_key(user: &SessionUser, token: &str, what: &str) -> Result<IdempotencyKey, Error> {
    let token = token.trim();
    if token.is_empty() || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid("this form has expired; reload the page and try again"));
    }
    Ok(IdempotencyKey {
        user: user.user_id,
        key: format!("form:{token}"),
        request_hash: sharemall_app::tokens::sha256_hex(what.as_bytes()),
    })
}

/// A stable hue for something without one of its own (shops).
pub fn hue_of(text: &str) -> i64 {
    // The same hue the shop's posters and parcel cards are printed in.
    i64::from(sharemall_domain::shop::brand_hue(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/orders")), "/orders");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn encodes_paths() {
        assert_eq!(url_encode("/shops/a?x=1&y=2"), "%2Fshops%2Fa%3Fx%3D1%26y%3D2");
    }

    #[test]
    fn times_are_china_time() {
        assert_eq!(fmt_time(0), "1970-01-01 08:00");
    }
}
