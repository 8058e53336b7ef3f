//! Configuration: every accepted key form works, every mistake is refused at start-up with a
//! message naming the field, and secrets never show in `Debug`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sharemall_wechatpay::test_support as common;

use common::*;
use sharemall_domain::ErrorCode;
use sharemall_wechatpay::{Config, DEFAULT_BASE_URL, PlatformCert, WechatPay};

fn refused(config: Config, field: &str) {
    let error = WechatPay::new(config, fixed_clock(NOW)).expect_err(field);
    assert_eq!(error.code, ErrorCode::InvalidInput, "{error}");
    assert!(error.message.contains(field), "message should name {field}: {}", error.message);
}

#[test]
fn accepts_pkcs8_and_pkcs1_private_keys_and_every_public_key_form() {
    let keys = keys();
    WechatPay::new(config(DEFAULT_BASE_URL), fixed_clock(NOW)).unwrap();
    let mut pkcs1 = config(DEFAULT_BASE_URL);
    pkcs1.merchant_private_key_pem = keys.merchant.pkcs1_private_pem.clone();
    WechatPay::new(pkcs1, fixed_clock(NOW)).unwrap();
    let mut rsa_public = config(DEFAULT_BASE_URL);
    rsa_public.platform_certs = vec![PlatformCert { serial: "A1".into(), public_key_pem: keys.platform.pkcs1_public_pem.clone() }];
    WechatPay::new(rsa_public, fixed_clock(NOW)).unwrap();
    for base in ["http://127.0.0.1:9", "http://localhost:9/", "http://[::1]:9"] {
        WechatPay::new(config(base), fixed_clock(NOW)).unwrap();
    }
}

#[test]
fn refuses_every_mistake_naming_the_field() {
    let base = || config(DEFAULT_BASE_URL);
    let edit = |f: fn(&mut Config)| {
        let mut c = base();
        f(&mut c);
        c
    };
    refused(edit(|c| c.mchid.clear()), "mchid");
    refused(edit(|c| c.mchid = "19000\",x=\"1".into()), "mchid");
    refused(edit(|c| c.appid.clear()), "appid");
    refused(edit(|c| c.merchant_serial_no = " ".into()), "merchant_serial_no");
    refused(edit(|c| c.merchant_private_key_pem = "not a pem".into()), "merchant_private_key_pem");
    refused(edit(|c| c.merchant_private_key_pem = keys().merchant.spki_pem.clone()), "merchant_private_key_pem");
    refused(
        edit(|c| c.merchant_private_key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into()),
        "merchant_private_key_pem",
    );
    refused(edit(|c| c.api_v3_key = "a".repeat(31)), "api_v3_key");
    refused(edit(|c| c.api_v3_key = "a".repeat(33)), "api_v3_key");
    refused(edit(|c| c.platform_certs.clear()), "platform_certs");
    refused(edit(|c| c.platform_certs[1].serial = c.platform_certs[0].serial.to_lowercase()), "platform_certs");
    refused(edit(|c| c.platform_certs[0].public_key_pem = "garbage".into()), "platform_certs[0].public_key_pem");
    refused(edit(|c| c.platform_certs[0].public_key_pem = keys().platform.pkcs8_pem.clone()), "platform_certs[0].public_key_pem");
    refused(edit(|c| c.base_url = "http://api.mch.weixin.qq.com".into()), "base_url");
    refused(edit(|c| c.base_url = "https://api.mch.weixin.qq.com/?x=1".into()), "base_url");
    refused(edit(|c| c.notify_url = "http://shop.example.com/notify".into()), "notify_url");
    refused(edit(|c| c.notify_url = "https://shop.example.com/notify?order=1".into()), "notify_url");
    refused(edit(|c| c.request_timeout_ms = 0), "request_timeout_ms");
    refused(edit(|c| c.connect_timeout_ms = 600_000), "connect_timeout_ms");
}

#[test]
fn deserialises_with_defaults_and_never_prints_secrets() {
    let keys = keys();
    let json = serde_json::json!({
        "mchid": MCHID, "appid": APPID, "merchant_serial_no": MERCHANT_SERIAL,
        "merchant_private_key_pem": keys.merchant.pkcs8_pem, "api_v3_key": API_V3_KEY,
        "platform_certs": [{"serial": PLATFORM_SERIAL, "public_key_pem": keys.platform.spki_pem}],
        "notify_url": NOTIFY_URL
    });
    let config: Config = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(config.base_url, DEFAULT_BASE_URL);
    assert_eq!((config.connect_timeout_ms, config.request_timeout_ms), (5_000, 10_000));
    let printed = format!("{config:?}");
    assert!(!printed.contains(API_V3_KEY) && !printed.contains("PRIVATE KEY") && !printed.contains("PUBLIC KEY"), "{printed}");
    let pay = WechatPay::new(config, fixed_clock(NOW)).unwrap();
    assert!(!format!("{pay:?}").contains(API_V3_KEY));
    assert_eq!((pay.mchid(), pay.appid()), (MCHID, APPID));

    let mut unknown = json;
    unknown["api_key_v2"] = serde_json::json!("x");
    assert!(serde_json::from_value::<Config>(unknown).is_err(), "unknown fields are refused");
}
