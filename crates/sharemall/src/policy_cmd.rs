//! `sharemall policy show | set --file` and `sharemall compliance audit`: the commission
//! policy as a file, through the same guard as the console and the API, and the audit report
//! with a non-zero exit on any violation.

use sharemall_domain::compliance::policy_to_toml;
use std::path::Path;
use std::process::ExitCode;

use crate::settings::Settings;

/// Largest policy file read: a policy is a handful of keys.
const MAX_POLICY_FILE_BYTES: u64 = 64 * 1024;

pub async fn show(settings: Settings) -> anyhow::Result<ExitCode> {
    let app = crate::run::open_app(&settings).await?;
    print!("{}", policy_to_toml(&sharemall_app::policy::current(&app).await?));
    Ok(ExitCode::SUCCESS)
}

pub async fn set(settings: Settings, file: &Path) -> anyhow::Result<ExitCode> {
    let size = std::fs::metadata(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?.len();
    if size > MAX_POLICY_FILE_BYTES {
        anyhow::bail!("{} is {size} bytes; a policy file is at most {MAX_POLICY_FILE_BYTES}", file.display());
    }
    let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let app = crate::run::open_app(&settings).await?;
    match sharemall_app::policy::set_from_toml(&app, None, &text).await {
        Ok(risks) => {
            println!("policy saved");
            for risk in risks {
                println!("risk [{}] {}\n     {}", risk.rule.code(), risk.detail, risk.rule.citation());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("refused ({}): {}", e.code, e.message);
            Ok(ExitCode::FAILURE)
        }
    }
}

pub async fn audit(settings: Settings, json: bool) -> anyhow::Result<ExitCode> {
    let app = crate::run::open_app(&settings).await?;
    let report = sharemall_app::policy::audit_report(&app).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
