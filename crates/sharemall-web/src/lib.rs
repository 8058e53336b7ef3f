//! HTTP face of sharemall: the JSON API under `/api/v1` (with its OpenAPI document), the
//! server-rendered pages, `/healthz` and `/metrics`.
//!
//! Handlers parse input, call one use case in `sharemall_app`, and shape the output. They hold
//! no SQL and no business rules.

pub mod api;
pub mod error;
pub mod extract;
pub mod fission_svg;
pub mod i18n;
pub mod images;
pub mod metrics;
pub mod pages;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sharemall_app::App;
use sharemall_domain::{Error, ErrorCode};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// Largest request body accepted anywhere (CSV imports included).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// Longest any request may take before it is answered with `timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub metrics: Arc<Metrics>,
    /// Serve over HTTPS: cookies get `Secure` and the `__Host-` prefix.
    pub secure_cookies: bool,
}

impl AppState {
    pub fn new(app: Arc<App>) -> AppState {
        let secure_cookies = app.config.public_url.starts_with("https://");
        AppState { app, metrics: Arc::new(Metrics::default()), secure_cookies }
    }
}

/// The whole application: API, OpenAPI, health, metrics, and pages.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi_json = Arc::new(openapi.to_pretty_json().unwrap_or_default());
    Router::new()
        .nest("/api/v1", api)
        .route(
            "/api/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json.as_str().to_owned()) }),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(render_metrics))
        .merge(pages::router(state.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn(json_error_envelope))
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.app.store.read(|sql| sql.query_i64("SELECT 1", &[])).await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

async fn render_metrics(State(state): State<AppState>) -> Response {
    let (commits, commands) = state.app.store.writer_stats();
    let text = state.metrics.render(&[
        ("sharemall_store_commits_total", "counter", commits),
        ("sharemall_store_commands_total", "counter", commands),
        ("sharemall_store_failed_commits_total", "counter", state.app.store.failed_commits()),
    ]);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"))], text).into_response()
}

async fn not_found() -> ApiError {
    ApiError(Error::not_found("page"))
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = tokio::time::Instant::now();
    let response = next.run(request).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    state.metrics.record(response.status().as_u16(), micros);
    response
}

/// Errors produced outside our handlers (axum's own rejections, the body limit, the timeout)
/// come as plain text; under `/api` they are rewritten into the JSON envelope so that every API
/// error has the same shape and a stable code.
async fn json_error_envelope(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::BodyTooLarge,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::MalformedJson,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidInput,
    };
    let text = match axum::body::to_bytes(response.into_body(), 4_096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let message = if text.trim().is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    let mut response = ApiError(Error::new(code, message)).into_response();
    *response.status_mut() = status;
    response
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Responses go out as soon as they are written: no Nagle delay on small replies.
    let listener = listener.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).with_graceful_shutdown(shutdown).await
}

/// Used by pages and tests to build a body-less response quickly.
pub fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}
