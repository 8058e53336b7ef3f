//! T7 "Payment callbacks can't be forged", for the WeChat Pay provider: one table of
//! notifications, each built with real RSA-2048 signatures and AES-256-GCM, run through
//! `verify_notification` and then `check_against_order` / `check_refund_against` exactly as
//! the notify route will.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sharemall_wechatpay::test_support as common;

use common::notification::{Delivery, refund_resource};
use common::*;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sharemall_domain::{Error, ErrorCode};
use sharemall_wechatpay::{
    MAX_NOTIFICATION_BYTES, Notification, OrderCheck, RefundStatus, WechatPay, check_against_order, check_refund_against,
};

const OUT_TRADE_NO: &str = "SM2026110200001";
const AMOUNT_FEN: i64 = 1_000;
const OUT_REFUND_NO: &str = "8b0e1c2a-7d4f-4a5b-9c3d-2e1f0a9b8c7d";
const WRONG_API_V3_KEY: &str = "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4";

fn refund() -> Value {
    refund_resource(OUT_TRADE_NO, OUT_REFUND_NO, 400, AMOUNT_FEN)
}

fn ok() -> Delivery {
    Delivery::payment(OUT_TRADE_NO, AMOUNT_FEN, NOW)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The order may be marked paid.
    Paid,
    /// Genuine, about this order, but nothing to change.
    Ignored,
    /// The refund may be recorded with this status.
    Refund(RefundStatus),
    Refused(ErrorCode),
}

/// What the notify route will do: verify, decrypt, then check against the stored order.
fn process(pay: &WechatPay, headers: &HeaderMap, body: &[u8]) -> Outcome {
    let checked: Result<Outcome, Error> = pay.verify_notification(headers, body, NOW).and_then(|notification| match notification {
        Notification::Transaction(tx) => check_against_order(&tx, MCHID, APPID, OUT_TRADE_NO, AMOUNT_FEN).map(|check| match check {
            OrderCheck::Paid { .. } => Outcome::Paid,
            OrderCheck::Ignored { .. } => Outcome::Ignored,
        }),
        Notification::Refund(notice) => check_refund_against(&notice, MCHID, OUT_REFUND_NO, 400).map(Outcome::Refund),
        Notification::Other { .. } => Ok(Outcome::Ignored),
    });
    checked.unwrap_or_else(|e| Outcome::Refused(e.code))
}

fn pay() -> WechatPay {
    WechatPay::new(config("https://api.mch.weixin.qq.com"), fixed_clock(NOW)).unwrap()
}

fn cases() -> Vec<(&'static str, Delivery, Outcome)> {
    use ErrorCode::*;
    use Outcome::*;
    vec![
        ("valid", ok(), Paid),
        ("valid_via_certificate_serial", Delivery { serial: PLATFORM_CERT_SERIAL, ..ok() }, Paid),
        ("valid_lowercase_serial", Delivery { serial: "5157f09efdc096de15ebe81a47057a7232f1b8e1", ..ok() }, Paid),
        ("valid_at_minus_300s", Delivery { timestamp: NOW - 300, ..ok() }, Paid),
        ("valid_at_plus_300s", Delivery { timestamp: NOW + 300, ..ok() }, Paid),
        ("valid_refund_success", Delivery { event_type: "REFUND.SUCCESS", resource: refund(), ..ok() }, Refund(RefundStatus::Success)),
        (
            "tampered_body",
            Delivery { tamper_body: |b| String::from_utf8(b).unwrap().replace("支付成功", "支付失败").into_bytes(), ..ok() },
            Refused(BadSignature),
        ),
        ("stale_timestamp_minus_301s", Delivery { timestamp: NOW - 301, ..ok() }, Refused(StaleCallback)),
        ("future_timestamp_plus_301s", Delivery { timestamp: NOW + 301, ..ok() }, Refused(StaleCallback)),
        ("unknown_serial", Delivery { serial: "0000000000000000000000000000000000000000", ..ok() }, Refused(BadSignature)),
        ("signtest_probe", Delivery { mangle_signature: |s| format!("WECHATPAY/SIGNTEST/{s}"), ..ok() }, Refused(BadSignature)),
        ("bad_base64_signature", Delivery { mangle_signature: |_| "%%not*base64%%".into(), ..ok() }, Refused(BadSignature)),
        ("signed_by_another_key", Delivery { signed_by_platform: false, ..ok() }, Refused(BadSignature)),
        ("missing_signature_header", Delivery { drop_signature_header: true, ..ok() }, Refused(BadSignature)),
        ("wrong_aes_tag", Delivery { flip_ciphertext_byte: true, ..ok() }, Refused(BadSignature)),
        ("wrong_api_v3_key", Delivery { api_v3_key: WRONG_API_V3_KEY, ..ok() }, Refused(BadSignature)),
        ("unsupported_algorithm", Delivery { algorithm: "AEAD_SM4_GCM", ..ok() }, Refused(InvalidInput)),
        ("amount_mismatch", ok().with_resource(|r| r["amount"]["total"] = json!(999)), Refused(PaymentAmountMismatch)),
        ("merchant_mismatch", ok().with_resource(|r| r["mchid"] = json!("1900000110")), Refused(InvalidInput)),
        ("appid_mismatch", ok().with_resource(|r| r["appid"] = json!("wx0000000000000000")), Refused(InvalidInput)),
        ("order_mismatch", ok().with_resource(|r| r["out_trade_no"] = json!("SM2026110200002")), Refused(InvalidInput)),
        ("currency_mismatch", ok().with_resource(|r| r["amount"]["currency"] = json!("USD")), Refused(InvalidInput)),
        ("non_success_trade_state", ok().with_resource(|r| r["trade_state"] = json!("NOTPAY")), Ignored),
        (
            "refund_amount_mismatch",
            Delivery { event_type: "REFUND.SUCCESS", resource: refund(), ..ok() }.with_resource(|r| r["amount"]["refund"] = json!(1_000)),
            Refused(PaymentAmountMismatch),
        ),
        ("oversized_body", Delivery { tamper_body: |b| [b, vec![b' '; MAX_NOTIFICATION_BYTES]].concat(), ..ok() }, Refused(BodyTooLarge)),
    ]
}

#[test]
fn t7_callback_vectors() {
    let pay = pay();
    let cases = cases();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    let (mut negatives, mut refused, mut wrongly_applied) = (0, 0, 0);
    for (name, delivery, expected) in &cases {
        let (headers, body) = delivery.build();
        let outcome = process(&pay, &headers, &body);
        let applies = matches!(outcome, Outcome::Paid | Outcome::Refund(RefundStatus::Success));
        let negative = !matches!(expected, Outcome::Paid | Outcome::Refund(_));
        if negative {
            negatives += 1;
            refused += usize::from(!applies);
            wrongly_applied += usize::from(applies);
        }
        report.push(format!("{name:32} expected {expected:?}, got {outcome:?}"));
        if &outcome != expected {
            failures.push(report.last().cloned().unwrap_or_default());
        }
    }
    println!("{}", report.join("\n"));
    println!("T7 (wechat): {} vectors, {negatives} negatives, {refused} refused or ignored, {wrongly_applied} applied", cases.len());
    assert!(failures.is_empty(), "unexpected outcomes:\n{}", failures.join("\n"));
    assert_eq!((refused, wrongly_applied), (negatives, 0), "all negatives refused");
}

/// WeChat redelivers until it is acknowledged, so duplicates are genuine and verify the same
/// every time; "1 state change" is the caller's idempotent write keyed by `out_trade_no`.
#[test]
fn duplicate_deliveries_verify_identically() {
    let pay = pay();
    let (headers, body) = ok().build();
    let first = pay.verify_notification(&headers, &body, NOW).unwrap();
    for _ in 0..10 {
        assert_eq!(pay.verify_notification(&headers, &body, NOW).unwrap(), first);
    }
    let Notification::Transaction(tx) = first else { panic!("a transaction") };
    assert_eq!(tx.transaction_id.as_deref(), Some("4200001234202611020000000001"));
}

#[test]
fn unknown_event_types_are_verified_but_not_interpreted() {
    let pay = pay();
    let (headers, body) = Delivery { event_type: "PROFITSHARING.SUCCESS", ..ok() }.build();
    assert_eq!(
        pay.verify_notification(&headers, &body, NOW).unwrap(),
        Notification::Other { id: "EV-2018022511223320873".into(), event_type: "PROFITSHARING.SUCCESS".into() }
    );
}
