//! `sharemall import --supplier LOGIN FILE.csv`: adds a supplier's products from a spreadsheet
//! export, with a progress bar and a per-row error report. Products with errors are left out;
//! the rest are added, pending operator approval.

use indicatif::{ProgressBar, ProgressStyle};
use sharemall_domain::account::LoginId;
use sharemall_domain::{Error, ErrorCode};
use sharemall_store::ops::accounts;
use std::path::Path;

use crate::settings::Settings;

pub async fn run(settings: Settings, supplier_login: &str, file: &Path) -> anyhow::Result<()> {
    let app = crate::run::open_app(&settings).await?;
    let login = LoginId::parse(supplier_login)?;
    let supplier = app
        .store
        .read(move |sql| {
            let (user, _) = accounts::credentials(sql, &login)?.ok_or_else(|| Error::not_found("account"))?;
            accounts::load_user(sql, user)?.supplier_id.ok_or_else(|| Error::new(ErrorCode::Forbidden, "this account is not a supplier"))
        })
        .await?;
    let size = std::fs::metadata(file)?.len();
    let reader = std::fs::File::open(file)?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} reading rows: {pos} ({elapsed})").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let report = sharemall_app::import::parse_products_csv(std::io::BufReader::new(reader), &mut |rows| bar.set_position(rows));
    bar.finish_and_clear();
    for error in &report.errors {
        let column = error.column.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
        println!("line {}{column}: {}", error.line, error.message);
    }
    let total = report.products.len() as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} products").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let mut added = 0;
    for product in report.products {
        sharemall_app::catalog::add_products(&app, supplier, vec![product]).await?;
        added += 1;
        bar.inc(1);
    }
    bar.finish();
    println!("{size} bytes read; {added} products added (pending approval); {} rows with errors", report.errors.len());
    Ok(())
}
