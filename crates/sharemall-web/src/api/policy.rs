//! The commission policy and the compliance audit, for operators. The policy body has the
//! policy file's keys; a key the guard forbids (a fee, a recruitment reward, a team bonus, a
//! third level) is refused with the rule it breaks, like any forbidden value.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Serialize;
use sharemall_app::policy;
use sharemall_app::require;
use sharemall_domain::account::Role;
use sharemall_domain::compliance::{AuditReport, CommissionPolicy, Risk, policy_to_toml};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::CurrentUser;

#[derive(Debug, Serialize)]
pub struct PolicyView {
    pub policy: CommissionPolicy,
    /// The same policy as the file `sharemall policy set --file` reads.
    pub file: String,
}

#[utoipa::path(get, path = "/operator/policy", tag = "operator",
    responses((status = 200, body = Object, description = "the policy and its file form"), (status = 403, body = ErrorBody)))]
async fn show_policy(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> ApiResult<PolicyView> {
    require(&user, Role::Operator)?;
    let policy = policy::current(&state.app).await?;
    Ok(Json(PolicyView { file: policy_to_toml(&policy), policy }))
}

#[derive(Debug, Serialize)]
pub struct PolicySaved {
    pub policy: CommissionPolicy,
    /// Allowed but reported: an acknowledged depth 2.
    pub risks: Vec<Risk>,
}

#[utoipa::path(put, path = "/operator/policy", tag = "operator",
    request_body(content = Object, description = "the policy file's keys: depth, rate_bps, second_level_rate_bps, acknowledge_second_level_risk, settle_buffer_days, binding, protection_days"),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody, description = "policy_forbidden (with the rule) or policy_invalid")))]
async fn set_policy(State(state): State<AppState>, CurrentUser(user): CurrentUser, body: Bytes) -> ApiResult<PolicySaved> {
    let risks = policy::set_from_json(&state.app, &user, &body).await?;
    Ok(Json(PolicySaved { policy: policy::current(&state.app).await?, risks }))
}

#[utoipa::path(get, path = "/operator/compliance/audit", tag = "operator",
    responses((status = 200, body = Object, description = "the audit report"), (status = 403, body = ErrorBody)))]
async fn compliance_audit(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> ApiResult<AuditReport> {
    Ok(Json(policy::audit_for(&state.app, &user).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show_policy, set_policy)).routes(routes!(compliance_audit))
}
