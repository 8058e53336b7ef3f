//! Request extractors: JSON bodies with our error codes, the signed-in user, the client
//! address, and the `Idempotency-Key` header.

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use sharemall_app::accounts;
use sharemall_domain::{Error, ErrorCode};
use sharemall_store::model::{SessionKind, SessionUser};
use sharemall_store::ops::idempotency::IdempotencyKey;
use std::net::SocketAddr;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body. Malformed JSON, unknown fields (every input type denies them) and oversized
/// bodies each get their own stable code.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(json_error(&rejection))),
        }
    }
}

fn json_error(rejection: &JsonRejection) -> Error {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Error::new(ErrorCode::BodyTooLarge, "request body too large");
    }
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) if text.contains("unknown field") => Error::new(ErrorCode::UnknownField, text),
        JsonRejection::JsonDataError(_) => Error::new(ErrorCode::InvalidInput, text),
        JsonRejection::MissingJsonContentType(_) => Error::new(ErrorCode::MalformedJson, "send the body as application/json"),
        _ => Error::new(ErrorCode::MalformedJson, text),
    }
}

/// Name of the browser session cookie. The `__Host-` form (Secure, no Domain, path /) is used
/// when the platform is served over HTTPS; plain HTTP development gets the unprefixed name.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-sm_session" } else { "sm_session" }
}

/// Finds the session token: a bearer token (API clients) or the session cookie (pages).
pub fn session_token(parts: &Parts, secure: bool) -> Option<(String, SessionKind)> {
    let authorization = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(token) = authorization.and_then(|v| v.strip_prefix("Bearer ")) {
        return Some((token.trim().to_string(), SessionKind::Bearer));
    }
    cookie(&parts.headers, session_cookie_name(secure)).map(|value| (value, SessionKind::Cookie))
}

/// A cookie's value from the request.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

/// The signed-in user; `unauthenticated` (401) without a valid session.
pub struct CurrentUser(pub SessionUser);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(user)) => Ok(CurrentUser(user)),
            MaybeUser(None) => Err(ApiError(Error::new(ErrorCode::Unauthenticated, "sign in first"))),
        }
    }
}

/// The signed-in user if there is one. A present but expired session is still an error, so a
/// client learns to sign in again instead of silently acting anonymously.
pub struct MaybeUser(pub Option<SessionUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<SessionUser>() {
            return Ok(MaybeUser(Some(user.clone())));
        }
        let Some((token, kind)) = session_token(parts, state.secure_cookies) else { return Ok(MaybeUser(None)) };
        let user = accounts::authenticate(&state.app, &token, kind).await?;
        parts.extensions.insert(user.clone());
        Ok(MaybeUser(Some(user)))
    }
}

/// The peer address (never `X-Forwarded-For`, which any client can forge).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "unknown".into());
        Ok(ClientAddr(addr))
    }
}

/// Longest accepted `Idempotency-Key`.
const MAX_KEY_LEN: usize = 128;

/// Reads and checks an `Idempotency-Key` for `user`, binding it to a hash of the request.
pub fn idempotency_key(
    headers: &axum::http::HeaderMap,
    user: &SessionUser,
    method_and_path: &str,
    body: &[u8],
) -> Result<IdempotencyKey, Error> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Error::new(ErrorCode::IdempotencyKeyRequired, "send an Idempotency-Key header with this request"))?;
    if key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid("Idempotency-Key must be 1 to 128 visible ASCII characters"));
    }
    let mut hashed = Vec::with_capacity(method_and_path.len() + body.len() + 1);
    hashed.extend_from_slice(method_and_path.as_bytes());
    hashed.push(b'\n');
    hashed.extend_from_slice(body);
    let request_hash = sharemall_app::tokens::sha256_hex(&hashed);
    Ok(IdempotencyKey { user: user.user_id, key: key.to_string(), request_hash })
}

/// Parses a JSON body already read as bytes (handlers that must also hash the raw body).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        // A type error can be found before a syntax error later in the text (`[1, 2`); only a
        // body that is valid JSON is "invalid input" rather than "malformed".
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        let text = e.to_string();
        match e.classify() {
            serde_json::error::Category::Data if !well_formed => Error::new(ErrorCode::MalformedJson, text),
            serde_json::error::Category::Data if text.contains("unknown field") => Error::new(ErrorCode::UnknownField, text),
            serde_json::error::Category::Data => Error::new(ErrorCode::InvalidInput, text),
            _ => Error::new(ErrorCode::MalformedJson, text),
        }
    })
}
