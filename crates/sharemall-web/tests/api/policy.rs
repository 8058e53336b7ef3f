//! TESTING T13 through the API: every forbidden policy is refused with the rule it breaks and
//! changes nothing; an acknowledged depth 2 is saved and reported as a risk; only operators
//! read or change the policy and the audit.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_policies_are_refused_through_the_api() {
    let app = spawn_app().await;
    let operator = app.operator().await;
    let before = app.get("/operator/policy", Some(&operator)).await.ok().clone();
    assert_eq!(before["policy"]["depth"], 1);
    assert!(before["file"].as_str().unwrap().contains("[commission]"));

    let forbidden = [
        (json!({"depth": 3}), "max_depth"),
        (json!({"rate_bps": 3001}), "commission_cap"),
        (json!({"depth": 2, "acknowledge_second_level_risk": true, "rate_bps": 2000, "second_level_rate_bps": 1001}), "commission_cap"),
        (json!({"settle_buffer_days": -1}), "no_early_withdrawal"),
        (json!({"instant_withdraw": true}), "no_early_withdrawal"),
        (json!({"shop_entry_fee_fen": 9900}), "no_entry_fee"),
        (json!({"recruit_reward_fen": 500}), "no_recruitment_reward"),
        (json!({"team_bonus_bps": 200}), "no_team_bonus"),
        (json!({"depth": 2, "second_level_rate_bps": 500}), "second_level_acknowledged"),
    ];
    for (body, rule) in forbidden {
        let resp = app.put("/operator/policy", Some(&operator), &body).await;
        resp.assert_error(422, "policy_forbidden");
        assert!(resp.message().contains(&format!("rule {rule}")), "{body}: {}", resp.message());
    }
    app.put("/operator/policy", Some(&operator), &json!({"rate_bsp": 100})).await.assert_error(422, "policy_invalid");
    app.put("/operator/policy", Some(&operator), &json!([1, 2])).await.assert_error(422, "policy_invalid");
    assert_eq!(app.get("/operator/policy", Some(&operator)).await.ok().clone(), before, "refused policies change nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_policy").await, 0);

    let saved = app
        .put(
            "/operator/policy",
            Some(&operator),
            &json!({"depth": 2, "acknowledge_second_level_risk": true, "rate_bps": 2000, "second_level_rate_bps": 500}),
        )
        .await
        .ok()
        .clone();
    assert_eq!((saved["policy"]["depth"].as_i64(), saved["risks"][0]["rule"].as_str()), (Some(2), Some("second_level_acknowledged")));
    let report = app.get("/operator/compliance/audit", Some(&operator)).await.ok().clone();
    assert_eq!(report["violations"], json!([]));
    assert_eq!(report["risks"][0]["rule"], "second_level_acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_operators_read_or_change_the_policy() {
    let app = spawn_app().await;
    let customer = app.register_customer().await;
    app.get("/operator/policy", Some(&customer.token)).await.assert_error(403, "forbidden");
    app.put("/operator/policy", Some(&customer.token), &json!({"rate_bps": 1000})).await.assert_error(403, "forbidden");
    app.get("/operator/compliance/audit", Some(&customer.token)).await.assert_error(403, "forbidden");
    app.get("/operator/policy", None).await.assert_error(401, "unauthenticated");
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_policy").await, 0);
}
