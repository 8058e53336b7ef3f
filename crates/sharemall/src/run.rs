//! `serve` and `worker`: open the store, build the app, run until Ctrl-C.

use sharemall_app::App;
use sharemall_app::clock::{Clock, SystemClock};
use sharemall_domain::Timestamp;
use sharemall_store::Store;
use std::sync::Arc;
use std::time::Duration;

use crate::settings::Settings;

pub fn wall_now() -> Timestamp {
    SystemClock.now()
}

/// Opens the store (migrating it) and builds the app.
pub async fn open_app(settings: &Settings) -> anyhow::Result<Arc<App>> {
    let config = settings.store_config();
    let store = tokio::task::spawn_blocking(move || Store::open(&config, wall_now().millis())).await??;
    Ok(App::new(store, Arc::new(SystemClock), settings.app_config()?)?)
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn serve(mut settings: Settings, demo: bool) -> anyhow::Result<()> {
    let started = tokio::time::Instant::now();
    let listener = tokio::net::TcpListener::bind(&settings.server.bind).await?;
    let local = listener.local_addr()?;
    settings.server.bind = local.to_string();
    let app = open_app(&settings).await?;
    if settings.server.run_jobs {
        let jobs_app = Arc::clone(&app);
        tokio::spawn(async move { sharemall_app::jobs::run_until(&jobs_app, Duration::from_millis(500), std::future::pending()).await });
    }
    let router = sharemall_web::router(sharemall_web::AppState::new(Arc::clone(&app)));
    let server = tokio::spawn(sharemall_web::serve(listener, router, shutdown_signal()));
    let public = settings.public_url();
    tracing::info!(backend = app.store.backend().as_str(), ready_ms = started.elapsed().as_millis() as u64, "sharemall ready at {public}");
    if demo {
        // Seeded while serving: the sandbox provider delivers its payment callbacks over HTTP.
        crate::demo::seed(&app).await?;
    }
    println!("sharemall is ready: {public}  (API {public}/api/v1, OpenAPI {public}/api/openapi.json)");
    if demo {
        crate::demo::print_sign_ins(&public);
    }
    server.await??;
    Ok(())
}

pub async fn worker(settings: Settings) -> anyhow::Result<()> {
    let app = open_app(&settings).await?;
    println!("sharemall worker running jobs on {}", app.store.backend().as_str());
    sharemall_app::jobs::run_until(&app, Duration::from_millis(500), shutdown_signal()).await;
    Ok(())
}
