//! `sharemall check`: every invariant over stock, orders and payments, printed; non-zero exit
//! on any violation.

use sharemall_store::ops::check::check_all;
use std::process::ExitCode;

use crate::settings::Settings;

pub async fn run(settings: Settings) -> anyhow::Result<ExitCode> {
    let app = crate::run::open_app(&settings).await?;
    let results = app.store.read(check_all).await?;
    let mut violations = 0;
    for result in &results {
        let mark = if result.violations.is_empty() { "ok  " } else { "FAIL" };
        println!("{mark} {} — {} checked, {} violations", result.name, result.checked, result.violations.len());
        for v in &result.violations {
            println!("       {v}");
        }
        violations += result.violations.len();
    }
    let integrity = app.store.read(|sql| integrity_check(sql)).await?;
    println!("{} database integrity: {integrity}", if integrity == "ok" { "ok  " } else { "FAIL" });
    if violations == 0 && integrity == "ok" {
        println!("all {} checks passed", results.len() + 1);
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{violations} violations");
        Ok(ExitCode::FAILURE)
    }
}

/// SQLite's own page-level check; PostgreSQL guarantees this itself.
fn integrity_check(sql: &mut dyn sharemall_store::Sql) -> Result<String, sharemall_domain::Error> {
    match sql.backend() {
        sharemall_store::Backend::Sqlite => sql.query_one("PRAGMA integrity_check", &[])?.text(0),
        sharemall_store::Backend::Postgres => Ok("ok".into()),
    }
}
