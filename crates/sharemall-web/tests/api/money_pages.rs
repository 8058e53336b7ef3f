//! The money pages over HTTP: the shop owner's earnings page with its balances and commission
//! rows, a withdrawal requested through its form (a refusal shown on the page, a double submit
//! placed once), the operator's approval queue, and the compliance page refusing a forbidden
//! policy with its rule while keeping the operator's text.

use serde_json::json;

use crate::bargain_pages::{html, location, page, post_form};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earnings_withdrawal_and_approval_pages() {
    let app = spawn_app().await;
    let f = app.fixture(2_990, 10).await;
    let owner = f.shop.actor.token.clone();
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 2).await;
    app.pay(&f.customer.token, &order_id).await;

    let resp = page(&app, "/console/shop/earnings?lang=en", Some(&owner)).await;
    let text = html(&resp);
    assert!(text.contains(r#"id="earnings-pending">¥5.98"#), "{text}");
    assert!(text.contains("Waiting for receipt") && text.contains("commission-row"));

    let ship = json!({"carrier": "顺丰速运", "tracking_no": "SF1234567890"});
    app.post(&format!("/supplier/orders/{order_id}/ship"), Some(&f.supplier.actor.token), &ship).await.ok();
    app.post(&format!("/orders/{order_id}/receive"), Some(&f.customer.token), &json!({})).await.ok();
    app.advance_ms(7 * DAY_MS + MINUTE_MS);
    app.run_jobs().await;
    let resp = page(&app, "/console/shop/earnings", Some(&owner)).await;
    assert!(html(&resp).contains(r#"id="earnings-available">5.98"#));

    // More than available: refused on the page, nothing requested.
    let too_much = post_form(
        &app,
        "/console/shop/withdrawals?lang=en",
        Some(&owner),
        &[("amount_yuan", "6.00"), ("payee", "6222 王小明"), ("form_token", "t-1")],
    )
    .await;
    assert_eq!(too_much.status, 200);
    assert!(too_much.text.contains(r#"id="withdraw-error""#), "{}", too_much.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM withdrawals").await, 0);

    // A double submit of one form requests once.
    let fields = [("amount_yuan", "5.00"), ("payee", "6222 王小明"), ("form_token", "t-2")];
    assert_eq!(location(&post_form(&app, "/console/shop/withdrawals", Some(&owner), &fields).await), "/console/shop/earnings");
    assert_eq!(location(&post_form(&app, "/console/shop/withdrawals", Some(&owner), &fields).await), "/console/shop/earnings");
    assert_eq!(app.count("SELECT COUNT(*) FROM withdrawals").await, 1);
    let resp = page(&app, "/console/shop/earnings", Some(&owner)).await;
    assert!(html(&resp).contains("withdrawal-row") && resp.text.contains("待审核"));

    // The operator's queue: customers are refused, the operator approves, the job pays.
    let denied = page(&app, "/console/withdrawals", Some(&f.customer.token)).await;
    assert_eq!(denied.status, 403);
    let operator = app.operator().await;
    let queue = page(&app, "/console/withdrawals?lang=en", Some(&operator)).await;
    let text = html(&queue).to_string();
    let id =
        text.split("/console/withdrawals/").nth(1).and_then(|rest| rest.split('/').next()).expect("a request in the queue").to_string();
    assert_eq!(
        location(&post_form(&app, &format!("/console/withdrawals/{id}/approve"), Some(&operator), &[]).await),
        "/console/withdrawals"
    );
    app.run_jobs().await;
    let resp = page(&app, "/console/shop/earnings?lang=en", Some(&owner)).await;
    assert!(html(&resp).contains(r#"id="earnings-paid-out">¥5.00"#));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compliance_page_refuses_a_forbidden_policy_and_keeps_the_text() {
    let app = spawn_app().await;
    let operator = app.operator().await;
    let resp = page(&app, "/console/compliance?lang=en", Some(&operator)).await;
    let text = html(&resp);
    assert!(text.contains(r#"id="audit-clean""#) && text.contains("[commission]"), "{text}");

    let forbidden = "[commission]\ndepth = 3\n";
    let refused = post_form(&app, "/console/compliance?lang=en", Some(&operator), &[("policy", forbidden)]).await;
    assert_eq!(refused.status, 200);
    assert!(refused.text.contains(r#"id="policy-error""#) && refused.text.contains("rule max_depth"), "{}", refused.text);
    assert!(refused.text.contains("depth = 3"), "the operator's text stays in the editor");
    assert_eq!(app.count("SELECT COUNT(*) FROM commission_policy").await, 0);

    let ok = "[commission]\nrate_bps = 2000\nsettle_buffer_days = 1\n";
    let saved = post_form(&app, "/console/compliance?lang=en", Some(&operator), &[("policy", ok)]).await;
    assert!(saved.text.contains(r#"id="policy-saved""#) && saved.text.contains("rate_bps = 2000"), "{}", saved.text);
    let customer = app.register_customer().await;
    assert_eq!(post_form(&app, "/console/compliance", Some(&customer.token), &[("policy", ok)]).await.status, 403);
}
