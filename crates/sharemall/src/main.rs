//! `sharemall`: one binary runs the whole platform.

mod bench;
mod check;
mod demo;
mod demo_activities;
mod import;
mod policy_cmd;
mod run;
mod settings;
mod simulate;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

use crate::settings::Settings;

/// mimalloc instead of the system allocator: requests allocate many small, short-lived values
/// across threads, where glibc's malloc spent about a tenth of the HTTP threads' time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "sharemall", version, about = "Open-source social e-commerce (S2B2C): shops, sharing, group buys, commission")]
struct Cli {
    /// Settings file (optional).
    #[arg(long, global = true, default_value = "sharemall.toml")]
    config: PathBuf,
    /// Database URL: `sqlite://data/sharemall.db` or `postgres://…`. Overrides settings.
    #[arg(long, global = true, env = "SHAREMALL_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, the pages and the background jobs.
    Serve {
        /// Fill an empty database with a demo platform first.
        #[arg(long)]
        demo: bool,
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Run background jobs only (beside `serve --no-jobs` processes on one PostgreSQL).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Verify stock, order and payment invariants; exit non-zero on any violation.
    Check,
    /// Measure a workload over HTTP on loopback; prints one JSON object.
    Bench(bench::BenchArgs),
    /// Run the deterministic money simulation (seeded steps, every invariant after each).
    Simulate(simulate::SimulateArgs),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Show or set the commission policy (passes the compliance guard).
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Compliance reports.
    Compliance {
        #[command(subcommand)]
        command: ComplianceCommand,
    },
    /// Import products from a CSV file for a supplier.
    Import {
        /// The supplier's sign-in (phone or e-mail).
        #[arg(long)]
        supplier: String,
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Print the policy in force as a policy file.
    Show,
    /// Set the policy from a file with a `[commission]` table; refused policies change nothing.
    Set {
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ComplianceCommand {
    /// The audit report (SPEC 3.8); exits non-zero on any violation.
    Audit {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user with roles (e.g. the first operator).
    Create {
        #[arg(long)]
        login: String,
        #[arg(long, env = "SHAREMALL_NEW_USER_PASSWORD")]
        password: String,
        #[arg(long)]
        name: String,
        /// operator, supplier, shop_owner, customer (repeatable).
        #[arg(long = "role", default_value = "customer")]
        roles: Vec<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr: stdout carries what a command prints (`bench --json`, `check`).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let mut settings = Settings::load(&cli.config)?;
    if let Some(url) = cli.database_url {
        settings.database.url = url;
    }
    match cli.command {
        Command::Serve { demo, bind } => {
            if let Some(bind) = bind {
                settings.server.bind = bind;
            }
            run::serve(settings, demo).await?;
        }
        Command::Worker => run::worker(settings).await?,
        Command::Migrate => {
            let applied =
                tokio::task::spawn_blocking(move || sharemall_store::Store::migrate_only(&settings.database.url, run::wall_now().millis()))
                    .await??;
            println!("migrations applied: {applied} (schema version {})", sharemall_store::migrate::latest_version());
        }
        Command::Check => return check::run(settings).await,
        Command::Bench(args) => bench::run(settings, args).await?,
        Command::Simulate(args) => simulate::run(args).await?,
        Command::User { command: UserCommand::Create { login, password, name, roles } } => {
            let app = run::open_app(&settings).await?;
            let roles = roles.iter().map(|r| sharemall_domain::account::Role::parse(r)).collect::<Result<Vec<_>, _>>()?;
            let user = sharemall_app::accounts::create_user(&app, &login, &password, &name, roles).await?;
            println!("created user {} ({}) with roles {:?}", user.login, user.user_id, user.roles);
        }
        Command::Policy { command: PolicyCommand::Show } => return policy_cmd::show(settings).await,
        Command::Policy { command: PolicyCommand::Set { file } } => return policy_cmd::set(settings, &file).await,
        Command::Compliance { command: ComplianceCommand::Audit { json } } => return policy_cmd::audit(settings, json).await,
        Command::Import { supplier, file } => import::run(settings, &supplier, &file).await?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}
