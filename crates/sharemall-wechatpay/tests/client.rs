//! The client against the fake WeChat Pay: one round trip per endpoint, the merchant signature
//! checked by the server, every answer's platform signature checked by the client, and the
//! failure mapping (retryable or not).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sharemall_wechatpay::test_support as common;

use std::time::Duration;

use common::fake::{FakeWechat, Mode};
use common::*;
use sharemall_domain::ErrorCode;
use sharemall_wechatpay::{
    H5Order, JsapiOrder, OrderCheck, ProviderError, RefundRequest, RefundStatus, TradeState, WechatPay, check_against_order,
};

async fn setup() -> (FakeWechat, WechatPay) {
    let fake = FakeWechat::start().await;
    let mut config = config(&fake.base_url);
    config.request_timeout_ms = 1_000;
    let pay = WechatPay::new(config, fixed_clock(NOW)).unwrap();
    (fake, pay)
}

fn jsapi(out_trade_no: &str) -> JsapiOrder {
    JsapiOrder {
        description: "分享商城-测试商品".into(),
        out_trade_no: out_trade_no.into(),
        amount_fen: 1_000,
        openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
        time_expire: Some("2027-01-15T10:15:00+08:00".into()),
    }
}

fn refund_request() -> RefundRequest {
    RefundRequest {
        out_trade_no: "SM2026110200001".into(),
        out_refund_no: "8b0e1c2a-7d4f-4a5b-9c3d-2e1f0a9b8c7d".into(),
        refund_fen: 400,
        total_fen: 1_000,
        reason: Some("拼团未成团".into()),
    }
}

fn assert_error(result: Result<impl std::fmt::Debug, ProviderError>, code: ErrorCode, retryable: bool) -> ProviderError {
    let error = result.expect_err("the call should fail");
    assert_eq!((error.code, error.retryable), (code, retryable), "{error:?}");
    error
}

#[tokio::test]
async fn jsapi_order_round_trip_and_pay_sign_verifies_with_the_merchant_key() {
    let (fake, pay) = setup().await;
    let prepay = pay.create_jsapi_order(&jsapi("SM2026110200001")).await.unwrap();
    assert_eq!(prepay.prepay_id, "wxSM2026110200001");

    let seen = fake.last();
    assert!(seen.signature_ok);
    assert_eq!((seen.method.as_str(), seen.path_and_query.as_str()), ("POST", "/v3/pay/transactions/jsapi"));
    let body = &seen.body;
    assert_eq!(body["appid"], APPID);
    assert_eq!(body["mchid"], MCHID);
    assert_eq!(body["description"], "分享商城-测试商品");
    assert_eq!(body["out_trade_no"], "SM2026110200001");
    assert_eq!(body["notify_url"], NOTIFY_URL);
    assert_eq!(body["amount"], serde_json::json!({"total": 1000, "currency": "CNY"}));
    assert_eq!(body["payer"]["openid"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    assert_eq!(body["time_expire"], "2027-01-15T10:15:00+08:00");

    let params = &prepay.pay_params;
    assert_eq!((params.app_id.as_str(), params.package.as_str(), params.sign_type.as_str()), (APPID, "prepay_id=wxSM2026110200001", "RSA"));
    assert_eq!(params.time_stamp, NOW.to_string());
    let signed = lines(&[params.app_id.as_bytes(), params.time_stamp.as_bytes(), params.nonce_str.as_bytes(), params.package.as_bytes()]);
    assert!(verifies(&keys().merchant.rsa_public_der, &signed, &params.pay_sign), "paySign must verify with the merchant public key");
    assert!(!verifies(&keys().merchant.rsa_public_der, b"something else\n", &params.pay_sign));

    let as_json = serde_json::to_value(params).unwrap();
    for name in ["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"] {
        assert!(as_json.get(name).is_some(), "{name} missing from {as_json}");
    }
}

#[tokio::test]
async fn h5_order_round_trip() {
    let (fake, pay) = setup().await;
    let order = H5Order {
        description: "分享商城-测试商品".into(),
        out_trade_no: "SM2026110200002".into(),
        amount_fen: 2_590,
        payer_client_ip: "203.0.113.7".into(),
        time_expire: None,
    };
    let prepay = pay.create_h5_order(&order).await.unwrap();
    assert!(prepay.h5_url.starts_with("https://wx.tenpay.com/"), "{}", prepay.h5_url);
    let seen = fake.last();
    assert_eq!(seen.path_and_query, "/v3/pay/transactions/h5");
    assert_eq!(seen.body["scene_info"], serde_json::json!({"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}}));
    assert!(seen.body.get("payer").is_none() && seen.body.get("time_expire").is_none());
}

#[tokio::test]
async fn refund_round_trip() {
    let (fake, pay) = setup().await;
    let result = pay.refund(&refund_request()).await.unwrap();
    assert_eq!(result.refund_id, "50000000382019052709732678859");
    assert_eq!(result.out_refund_no, "8b0e1c2a-7d4f-4a5b-9c3d-2e1f0a9b8c7d");
    assert_eq!(result.status, RefundStatus::Processing);
    assert_eq!((result.amount.refund, result.amount.total), (400, 1_000));
    let seen = fake.last();
    assert_eq!(seen.path_and_query, "/v3/refund/domestic/refunds");
    assert_eq!(seen.body["amount"], serde_json::json!({"refund": 400, "total": 1000, "currency": "CNY"}));
    assert_eq!(seen.body["notify_url"], NOTIFY_URL);
    assert_eq!(seen.body["reason"], "拼团未成团");
}

#[tokio::test]
async fn query_order_round_trip_and_unknown_order() {
    let (fake, pay) = setup().await;
    pay.create_jsapi_order(&jsapi("SM2026110200003")).await.unwrap();
    let transaction = pay.query_order("SM2026110200003").await.unwrap();
    assert_eq!(fake.last().path_and_query, format!("/v3/pay/transactions/out-trade-no/SM2026110200003?mchid={MCHID}"));
    assert_eq!(fake.last().method, "GET");
    assert_eq!(transaction.trade_state, TradeState::Success);
    let check = check_against_order(&transaction, MCHID, APPID, "SM2026110200003", 1_000).unwrap();
    assert!(matches!(check, OrderCheck::Paid { ref transaction_id, .. } if transaction_id == "4200001234202611020000000001"));

    let missing = assert_error(pay.query_order("SM2026110299999").await, ErrorCode::NotFound, false);
    assert_eq!((missing.http_status, missing.wechat_code.as_deref()), (Some(404), Some("ORDER_NOT_EXIST")));
}

#[tokio::test]
async fn close_order_round_trip_with_a_signed_empty_answer() {
    let (fake, pay) = setup().await;
    pay.close_order("SM2026110200004").await.unwrap();
    let seen = fake.last();
    assert_eq!(seen.path_and_query, "/v3/pay/transactions/out-trade-no/SM2026110200004/close");
    assert_eq!(seen.body, serde_json::json!({"mchid": MCHID}));
}

#[tokio::test]
async fn a_bad_merchant_signature_is_refused_by_the_server() {
    let fake = FakeWechat::start().await;
    let mut config = config(&fake.base_url);
    config.merchant_private_key_pem = keys().stranger.pkcs8_pem.clone();
    let pay = WechatPay::new(config, fixed_clock(NOW)).unwrap();
    let error = assert_error(pay.create_jsapi_order(&jsapi("SM2026110200005")).await, ErrorCode::Internal, false);
    assert_eq!((error.http_status, error.wechat_code.as_deref()), (Some(401), Some("SIGN_ERROR")));
    assert!(!fake.last().signature_ok);
}

#[tokio::test]
async fn server_errors_are_retryable_and_client_errors_are_not() {
    let (fake, pay) = setup().await;
    fake.set_mode(Mode::Fail500);
    let error = assert_error(pay.refund(&refund_request()).await, ErrorCode::Overloaded, true);
    assert_eq!((error.http_status, error.wechat_code.as_deref()), (Some(500), Some("SYSTEM_ERROR")));
    assert!(error.is_retryable());

    fake.set_mode(Mode::Fail400);
    let error = assert_error(pay.create_jsapi_order(&jsapi("SM2026110200006")).await, ErrorCode::InvalidInput, false);
    assert_eq!((error.http_status, error.wechat_code.as_deref()), (Some(400), Some("PARAM_ERROR")));
    let as_domain: sharemall_domain::Error = error.into();
    assert_eq!(as_domain.code, ErrorCode::InvalidInput);
}

#[tokio::test]
async fn answers_with_a_wrong_missing_or_unknown_signature_are_refused() {
    let (fake, pay) = setup().await;
    for (mode, code) in [
        (Mode::WrongSignature, ErrorCode::BadSignature),
        (Mode::Unsigned, ErrorCode::BadSignature),
        (Mode::UnknownSerial, ErrorCode::BadSignature),
        (Mode::Skewed(-301), ErrorCode::StaleCallback),
        (Mode::Skewed(301), ErrorCode::StaleCallback),
    ] {
        fake.set_mode(mode.clone());
        let label = format!("{mode:?}");
        // Outcome unknown, every call idempotent: retryable.
        let e = pay.create_jsapi_order(&jsapi("SM2026110200007")).await.expect_err(&label);
        assert_eq!((e.code, e.retryable), (code, true), "jsapi {label}: {e:?}");
        let e = pay.refund(&refund_request()).await.expect_err(&label);
        assert_eq!((e.code, e.retryable), (code, true), "refund {label}: {e:?}");
        let e = pay.close_order("SM2026110200007").await.expect_err(&label);
        assert_eq!((e.code, e.retryable), (code, true), "close {label}: {e:?}");
    }
    fake.set_mode(Mode::Skewed(300));
    pay.refund(&refund_request()).await.expect("300 s of skew is still accepted");
}

#[tokio::test]
async fn timeouts_are_retryable_and_oversized_answers_refused() {
    let (fake, pay) = setup().await;
    fake.set_mode(Mode::Slow(Duration::from_millis(1_500)));
    assert_error(pay.query_order("SM2026110200008").await, ErrorCode::Timeout, true);
    fake.set_mode(Mode::Oversized);
    let error = assert_error(pay.refund(&refund_request()).await, ErrorCode::Internal, true);
    assert!(error.message.contains("bytes"), "{error:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_retryable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let pay = WechatPay::new(config(&base_url), fixed_clock(NOW)).unwrap();
    assert_error(pay.query_order("SM2026110200009").await, ErrorCode::Overloaded, true);
}

#[tokio::test]
async fn bad_inputs_are_refused_before_anything_is_sent() {
    let (fake, pay) = setup().await;
    assert_error(pay.query_order("../../v3/refund/domestic/refunds").await, ErrorCode::InvalidInput, false);
    assert_error(pay.query_order(&"1".repeat(33)).await, ErrorCode::InvalidInput, false);
    assert_error(pay.close_order("SM1?x=1").await, ErrorCode::InvalidInput, false);
    let mut order = jsapi("SM2026110200010");
    order.amount_fen = 0;
    assert_error(pay.create_jsapi_order(&order).await, ErrorCode::AmountOutOfRange, false);
    let mut order = jsapi("SM2026110200010");
    order.description = "x".repeat(128);
    assert_error(pay.create_jsapi_order(&order).await, ErrorCode::InvalidInput, false);
    let h5 = H5Order {
        description: "d".into(),
        out_trade_no: "SM2026110200010".into(),
        amount_fen: 1,
        payer_client_ip: "not-an-ip".into(),
        time_expire: None,
    };
    assert_error(pay.create_h5_order(&h5).await, ErrorCode::InvalidInput, false);
    let mut refund = refund_request();
    refund.refund_fen = 1_001;
    assert_error(pay.refund(&refund).await, ErrorCode::RefundExceedsPaid, false);
    let mut refund = refund_request();
    refund.out_refund_no = "has space".into();
    assert_error(pay.refund(&refund).await, ErrorCode::InvalidInput, false);
    assert!(fake.seen().is_empty(), "nothing may reach WeChat: {:?}", fake.seen());
}
