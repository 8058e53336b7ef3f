//! WeChat Pay over HTTP against the library's fake WeChat Pay on loopback (real RSA signatures
//! both ways, AES-GCM resources): H5 and JSAPI payments, the notify route (applied once,
//! forgeries and mismatches refused and changing nothing), and the refund job (a signed refund
//! request, retried after a retryable failure, finished by WeChat's answer or its notice).

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};
use sharemall_app::clock::{Clock, FakeClock};
use sharemall_wechatpay::test_support::fake::{FakeWechat, Mode};
use sharemall_wechatpay::test_support::notification::{Delivery, REFUND_ID, TRANSACTION_ID};
use sharemall_wechatpay::test_support::{APPID, config, keys, lines, verifies};

use crate::helpers::{Fixture, Resp, T0, TestApp, new_key, read, spawn_app, spawn_app_with};

/// The app with WeChat Pay configured against a fake whose clock is the app's fake clock, so
/// moving one moves both (request and answer timestamps must stay within 5 minutes).
async fn wechat_app() -> (TestApp, FakeWechat) {
    let clock: Arc<OnceLock<FakeClock>> = Arc::new(OnceLock::new());
    let read_clock = Arc::clone(&clock);
    let fake = FakeWechat::start_with_clock(Arc::new(move || read_clock.get().map_or(T0, Clock::now))).await;
    let base_url = fake.base_url.clone();
    let app = spawn_app_with(|c| c.wechat_pay = Some(config(&base_url))).await;
    assert!(clock.set(app.clock.clone()).is_ok(), "the clock is set once");
    (app, fake)
}

/// Two units at ¥29.90 (shipping free): an order of 5,980 fen awaiting payment.
async fn placed(app: &TestApp) -> (Fixture, String) {
    let f = app.fixture(2_990, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 2).await;
    (f, order_id)
}

async fn start(app: &TestApp, token: &str, order_id: &str, body: &Value) -> Resp {
    app.post_with_key(&format!("/orders/{order_id}/payments"), token, &new_key(), body).await
}

async fn start_h5(app: &TestApp, f: &Fixture, order_id: &str) -> (String, i64) {
    let started = start(app, &f.customer.token, order_id, &json!({"provider": "wechat_h5"})).await.ok().clone();
    let payment = &started["payment"];
    (payment["out_trade_no"].as_str().unwrap().to_string(), payment["amount_fen"].as_i64().unwrap())
}

fn now_secs(app: &TestApp) -> i64 {
    app.now() / 1_000
}

async fn deliver(app: &TestApp, delivery: &Delivery) -> Resp {
    let (headers, body) = delivery.build();
    let request = app.client.post(app.api("/payments/wechat/notify")).headers(headers).body(body);
    read(request.send().await.expect("notify")).await
}

async fn assert_unpaid(app: &TestApp, f: &Fixture, order_id: &str) {
    let order = app.order(&f.customer.token, order_id).await;
    assert_eq!((order["status"].as_str(), order["paid_fen"].as_i64()), (Some("created"), Some(0)), "[{}]", app.backend);
    assert_eq!(app.stock(&f.product.sku_id).await, (8, 2, 0));
    assert_eq!(app.count("SELECT COUNT(*) FROM ledger_transfers").await, 0);
}

fn assert_success(resp: &Resp) {
    assert_eq!((resp.status, resp.json.clone()), (200, json!({"code": "SUCCESS"})), "{}", resp.text);
}

fn assert_fail(resp: &Resp, status: u16, code: &str) {
    assert_eq!((resp.status, resp.json.clone()), (status, json!({"code": "FAIL", "message": code})), "{}", resp.text);
}

/// Pays the order with a genuine notification; returns (out_trade_no, amount).
async fn paid(app: &TestApp, f: &Fixture, order_id: &str) -> (String, i64) {
    let (out_trade_no, amount) = start_h5(app, f, order_id).await;
    assert_success(&deliver(app, &Delivery::payment(&out_trade_no, amount, now_secs(app))).await);
    assert_eq!(app.order_status(&f.customer.token, order_id).await, "to_ship");
    (out_trade_no, amount)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h5_payment_is_paid_once_by_a_signed_notification() {
    let (app, fake) = wechat_app().await;
    let (f, order_id) = placed(&app).await;

    let started = start(&app, &f.customer.token, &order_id, &json!({"provider": "wechat_h5"})).await.ok().clone();
    let out_trade_no = started["payment"]["out_trade_no"].as_str().unwrap().to_string();
    let amount = started["payment"]["amount_fen"].as_i64().unwrap();
    assert_eq!((started["payment"]["provider"].as_str(), out_trade_no.len(), amount), (Some("wechat"), 32, 5_980));
    let h5_url = format!("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx{out_trade_no}&package=1");
    assert_eq!(started["pay_url"].as_str(), Some(h5_url.as_str()), "the customer goes to WeChat's page");
    assert!(started.get("jsapi").is_none());
    let seen = fake.last();
    assert!(seen.signature_ok, "WeChat accepts our merchant signature");
    assert_eq!((seen.method.as_str(), seen.path_and_query.as_str()), ("POST", "/v3/pay/transactions/h5"));
    assert_eq!(seen.body["scene_info"]["payer_client_ip"], "127.0.0.1", "the peer address the web layer saw");
    assert_eq!(seen.body["amount"], json!({"total": 5_980, "currency": "CNY"}));
    assert_eq!(seen.body["time_expire"], "2026-03-02T10:15:00+08:00", "WeChat stops taking money at our pay deadline");
    assert_eq!(seen.body["out_trade_no"], out_trade_no.as_str());

    let notice = Delivery::payment(&out_trade_no, amount, now_secs(&app));
    assert_success(&deliver(&app, &notice).await);
    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!((order["status"].as_str(), order["paid_fen"].as_i64()), (Some("to_ship"), Some(5_980)));
    assert_eq!(app.stock(&f.product.sku_id).await, (8, 0, 2));
    app.assert_consistent().await;
    let transfers = app.count("SELECT COUNT(*) FROM ledger_transfers").await;
    assert!(transfers > 0, "received and split");
    let txn: String = app.app.store.read(|sql| sql.query_one("SELECT provider_txn_id FROM payments", &[])?.text(0)).await.unwrap();
    assert_eq!(txn, TRANSACTION_ID);

    // WeChat redelivers until acknowledged: each redelivery is acknowledged and changes nothing.
    for _ in 0..3 {
        assert_success(&deliver(&app, &notice).await);
    }
    app.advance_ms(60_000);
    assert_success(&deliver(&app, &Delivery::payment(&out_trade_no, amount, now_secs(&app))).await);
    assert_eq!(app.order(&f.customer.token, &order_id).await, order);
    assert_eq!(app.count("SELECT COUNT(*) FROM ledger_transfers").await, transfers);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_or_mismatched_notifications_are_refused_and_change_nothing() {
    let (app, _fake) = wechat_app().await;
    let (f, order_id) = placed(&app).await;
    let (out_trade_no, amount) = start_h5(&app, &f, &order_id).await;
    let now = now_secs(&app);
    let ok = || Delivery::payment(&out_trade_no, amount, now);

    let cases: Vec<(&str, Delivery, u16, &str)> = vec![
        (
            "tampered body",
            Delivery { tamper_body: |b| String::from_utf8(b).unwrap().replace("支付成功", "支付失败").into_bytes(), ..ok() },
            401,
            "bad_signature",
        ),
        ("signed by another key", Delivery { signed_by_platform: false, ..ok() }, 401, "bad_signature"),
        ("stale timestamp", Delivery { timestamp: now - 301, ..ok() }, 401, "stale_callback"),
        ("future timestamp", Delivery { timestamp: now + 301, ..ok() }, 401, "stale_callback"),
        ("SIGNTEST probe", Delivery { mangle_signature: |s| format!("WECHATPAY/SIGNTEST/{s}"), ..ok() }, 401, "bad_signature"),
        ("unknown serial", Delivery { serial: "0000000000000000000000000000000000000000", ..ok() }, 401, "bad_signature"),
        ("no signature header", Delivery { drop_signature_header: true, ..ok() }, 401, "bad_signature"),
        ("wrong AES tag", Delivery { flip_ciphertext_byte: true, ..ok() }, 401, "bad_signature"),
        ("amount mismatch", ok().with_resource(|r| r["amount"]["total"] = json!(5_979)), 400, "payment_amount_mismatch"),
        ("another merchant", ok().with_resource(|r| r["mchid"] = json!("1900000110")), 400, "invalid_input"),
        ("another appid", ok().with_resource(|r| r["appid"] = json!("wx0000000000000000")), 400, "invalid_input"),
        ("currency", ok().with_resource(|r| r["amount"]["currency"] = json!("USD")), 400, "invalid_input"),
        ("unknown order", ok().with_resource(|r| r["out_trade_no"] = json!("SM000000000000000000000000000000")), 404, "not_found"),
    ];
    for (name, delivery, status, code) in &cases {
        let resp = deliver(&app, delivery).await;
        assert_eq!((resp.status, resp.json["message"].as_str()), (*status, Some(*code)), "{name}: {}", resp.text);
        assert_fail(&resp, *status, code);
        assert_unpaid(&app, &f, &order_id).await;
    }
    let oversized = Delivery { tamper_body: |b| [b, vec![b' '; 64 * 1024]].concat(), ..ok() };
    let resp = deliver(&app, &oversized).await;
    assert_eq!((resp.status, resp.json["code"].as_str()), (413, Some("FAIL")), "{}", resp.text);

    // Not paid yet: genuine, acknowledged, nothing changes.
    let not_paid = ok().with_resource(|r| r["trade_state"] = json!("NOTPAY"));
    assert_success(&deliver(&app, &not_paid).await);
    assert_unpaid(&app, &f, &order_id).await;

    // The genuine notification still applies: no refused one used anything up.
    assert_success(&deliver(&app, &ok()).await);
    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "to_ship");
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsapi_payment_answers_pay_params_signed_with_the_merchant_key() {
    let (app, fake) = wechat_app().await;
    let (f, order_id) = placed(&app).await;
    let token = &f.customer.token;

    start(&app, token, &order_id, &json!({"provider": "wechat_jsapi"})).await.assert_error(422, "invalid_input");
    start(&app, token, &order_id, &json!({"provider": "wechat_jsapi", "openid": "o\"; drop"})).await.assert_error(422, "invalid_input");
    start(&app, token, &order_id, &json!({"provider": "wechat_h5", "openid": "oUpF8uMu"})).await.assert_error(422, "invalid_input");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0, "refused before anything is written");

    let openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
    let started = start(&app, token, &order_id, &json!({"provider": "wechat_jsapi", "openid": openid})).await.ok().clone();
    let out_trade_no = started["payment"]["out_trade_no"].as_str().unwrap();
    assert_eq!(
        (started["payment"]["provider"].as_str(), started["pay_url"].as_str()),
        (Some("wechat"), Some(format!("/orders/{order_id}").as_str()))
    );
    let seen = fake.last();
    assert!(seen.signature_ok);
    assert_eq!((seen.path_and_query.as_str(), &seen.body["payer"]["openid"]), ("/v3/pay/transactions/jsapi", &json!(openid)));
    let params = &started["jsapi"];
    assert_eq!((params["appId"].as_str(), params["signType"].as_str()), (Some(APPID), Some("RSA")));
    assert_eq!(params["package"], format!("prepay_id=wx{out_trade_no}"));
    assert_eq!(params["timeStamp"], now_secs(&app).to_string());
    let field = |name: &str| params[name].as_str().unwrap().as_bytes().to_vec();
    let signed = lines(&[&field("appId"), &field("timeStamp"), &field("nonceStr"), &field("package")]);
    assert!(verifies(&keys().merchant.rsa_public_der, &signed, params["paySign"].as_str().unwrap()), "paySign verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wechat_configured_it_is_not_offered() {
    let app = spawn_app().await;
    let (f, order_id) = placed(&app).await;
    let resp = start(&app, &f.customer.token, &order_id, &json!({"provider": "wechat_h5"})).await;
    resp.assert_error(422, "invalid_input");
    assert!(resp.message().contains("not configured"), "{}", resp.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);
    let notice = Delivery::payment("SM000000000000000000000000000000", 5_980, T0.millis() / 1_000);
    assert_fail(&deliver(&app, &notice).await, 404, "not_found");
}

async fn refund_all(app: &TestApp, order_id: &str) -> String {
    let operator = app.operator().await;
    let body = json!({"amount_fen": 5_980, "reason": "拼团未成团"});
    let refund = app.post_with_key(&format!("/operator/orders/{order_id}/refunds"), &operator, &new_key(), &body).await.ok().clone();
    refund["refund_id"].as_str().unwrap().to_string()
}

fn refund_requests(fake: &FakeWechat) -> Vec<Value> {
    fake.seen()
        .into_iter()
        .filter(|s| s.path_and_query == "/v3/refund/domestic/refunds")
        .map(|s| {
            assert!(s.signature_ok, "every refund request carries a valid merchant signature");
            s.body
        })
        .collect()
}

async fn refund_status(app: &TestApp, refund_id: &str) -> String {
    let id: sharemall_domain::RefundId = refund_id.parse().unwrap();
    app.app
        .store
        .read(move |sql| sql.query_one("SELECT status FROM refunds WHERE id = $1", sharemall_store::params![id])?.text(0))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refund_job_refunds_through_wechat_after_a_retryable_failure() {
    let (app, fake) = wechat_app().await;
    let (f, order_id) = placed(&app).await;
    let (out_trade_no, _) = paid(&app, &f, &order_id).await;

    fake.set_mode(Mode::Fail500);
    let refund_id = refund_all(&app, &order_id).await;
    app.run_jobs().await;
    assert_eq!(refund_requests(&fake).len(), 1, "asked once, WeChat failed");
    assert_eq!(
        (refund_status(&app, &refund_id).await, app.order_status(&f.customer.token, &order_id).await),
        ("pending".into(), "refunding".into())
    );
    app.assert_consistent().await;

    // Retried with backoff: not before its time, then through.
    fake.set_mode(Mode::Normal);
    fake.set_refund_status("SUCCESS");
    app.run_jobs().await;
    assert_eq!(refund_requests(&fake).len(), 1, "not retried before the backoff");
    app.advance_ms(2_000);
    app.run_jobs().await;
    let requests = refund_requests(&fake);
    assert_eq!(requests.len(), 2);
    let request = &requests[1];
    assert_eq!(
        (request["out_trade_no"].as_str(), request["out_refund_no"].as_str()),
        (Some(out_trade_no.as_str()), Some(refund_id.as_str()))
    );
    assert_eq!(request["amount"], json!({"refund": 5_980, "total": 5_980, "currency": "CNY"}));
    assert_eq!(refund_status(&app, &refund_id).await, "succeeded");
    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!((order["status"].as_str(), order["refunded_fen"].as_i64()), (Some("refunded"), Some(5_980)));
    assert_eq!(app.stock(&f.product.sku_id).await, (10, 0, 0), "never shipped: the units are back");
    app.assert_consistent().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'execute_refund'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processing_refund_is_finished_by_the_refund_notice_once() {
    let (app, fake) = wechat_app().await;
    let (f, order_id) = placed(&app).await;
    let (out_trade_no, amount) = paid(&app, &f, &order_id).await;
    let refund_id = refund_all(&app, &order_id).await;

    app.run_jobs().await; // WeChat answers PROCESSING: the job asks again later.
    assert_eq!((refund_requests(&fake).len(), refund_status(&app, &refund_id).await), (1, "pending".into()));
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'execute_refund'").await, 1);

    // A notice for a different amount, or about another payment, changes nothing.
    let now = now_secs(&app);
    let notice = Delivery::refund(&out_trade_no, &refund_id, amount, amount, now);
    let wrong_amount = notice.clone().with_resource(|r| r["amount"]["refund"] = json!(100));
    assert_fail(&deliver(&app, &wrong_amount).await, 400, "payment_amount_mismatch");
    let other_payment = notice.clone().with_resource(|r| r["out_trade_no"] = json!("SM111111111111111111111111111111"));
    assert_fail(&deliver(&app, &other_payment).await, 400, "invalid_input");
    let not_ours = notice.clone().with_resource(|r| r["out_refund_no"] = json!("R-1"));
    assert_fail(&deliver(&app, &not_ours).await, 400, "invalid_input");
    assert_eq!(refund_status(&app, &refund_id).await, "pending");

    assert_success(&deliver(&app, &notice).await);
    assert_eq!(refund_status(&app, &refund_id).await, "succeeded");
    let provider_id: String = {
        let id: sharemall_domain::RefundId = refund_id.parse().unwrap();
        app.app
            .store
            .read(move |sql| sql.query_one("SELECT provider_refund_id FROM refunds WHERE id = $1", sharemall_store::params![id])?.text(0))
            .await
            .unwrap()
    };
    assert_eq!(provider_id, REFUND_ID);
    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!(order["status"], "refunded");
    app.assert_consistent().await;
    let transfers = app.count("SELECT COUNT(*) FROM ledger_transfers").await;

    // Redelivered: acknowledged, nothing changes; the job finds nothing pending and ends
    // without asking WeChat again.
    assert_success(&deliver(&app, &notice).await);
    app.advance_ms(10_000);
    app.run_jobs().await;
    assert_eq!(refund_requests(&fake).len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'execute_refund'").await, 0);
    assert_eq!(app.order(&f.customer.token, &order_id).await, order);
    assert_eq!(app.count("SELECT COUNT(*) FROM ledger_transfers").await, transfers);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_wechat_refuses_for_good_fails_and_the_order_goes_back() {
    let (app, fake) = wechat_app().await;
    let (f, order_id) = placed(&app).await;
    paid(&app, &f, &order_id).await;
    fake.set_mode(Mode::Fail400);
    let refund_id = refund_all(&app, &order_id).await;
    app.run_jobs().await;
    assert_eq!(refund_status(&app, &refund_id).await, "failed");
    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "to_ship");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'execute_refund'").await, 0, "not retried");
    app.assert_consistent().await;
}
