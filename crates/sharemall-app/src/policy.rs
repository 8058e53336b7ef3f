//! The commission policy and the compliance audit for operators (SPEC 3.8). A policy arrives
//! as a file or as an API body with the file's keys; both go through the same key check and
//! the same guard, and the store checks again before it writes.

use sharemall_domain::account::Role;
use sharemall_domain::compliance::{AuditReport, CommissionPolicy, Risk, audit, parse_policy_toml, policy_from_table};
use sharemall_domain::{Error, ErrorCode};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::{compliance, policy};

use crate::{App, require};

pub async fn current(app: &App) -> Result<CommissionPolicy, Error> {
    app.store.read(policy::load).await
}

/// Sets the policy from an API body: a JSON object with the `[commission]` file's keys.
pub async fn set_from_json(app: &App, operator: &SessionUser, body: &[u8]) -> Result<Vec<Risk>, Error> {
    require(operator, Role::Operator)?;
    let table: toml::Table = serde_json::from_slice(body)
        .map_err(|e| Error::new(ErrorCode::PolicyInvalid, format!("the policy must be a JSON object of the policy file's keys: {e}")))?;
    save(app, Some(operator), policy_from_table(&table)?).await
}

/// Sets the policy from a policy file's text: the console's editor (an operator, recorded as
/// the one who set it) or `sharemall policy set --file` (`None`: the machine's own operator).
pub async fn set_from_toml(app: &App, by: Option<&SessionUser>, text: &str) -> Result<Vec<Risk>, Error> {
    if let Some(user) = by {
        require(user, Role::Operator)?;
    }
    save(app, by, parse_policy_toml(text)?).await
}

async fn save(app: &App, by: Option<&SessionUser>, policy: CommissionPolicy) -> Result<Vec<Risk>, Error> {
    let (now, by) = (app.now(), by.map(|u| u.user_id));
    app.store.write(move |sql| policy::save(sql, now, by, &policy)).await
}

pub async fn audit_report(app: &App) -> Result<AuditReport, Error> {
    let now = app.now();
    Ok(audit(app.store.read(move |sql| compliance::audit_facts(sql, now)).await?))
}

pub async fn audit_for(app: &App, operator: &SessionUser) -> Result<AuditReport, Error> {
    require(operator, Role::Operator)?;
    audit_report(app).await
}
