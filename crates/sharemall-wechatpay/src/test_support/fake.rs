//! A fake WeChat Pay on 127.0.0.1: checks the merchant's `Authorization` signature with the
//! merchant public key (401 `SIGN_ERROR` otherwise), serves the order, H5, refund, query and
//! close endpoints, signs its answers with the platform key, and misbehaves on request. Its
//! "now" is the caller's clock, so a test that moves its fake clock moves WeChat's too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use ring::signature::RsaKeyPair;
use serde_json::{Value, json};

use super::{MCHID, MERCHANT_SERIAL, NOW, PLATFORM_SERIAL, fixed_clock, key_pair, keys, lines, sign, verifies};
use crate::NowFn;

/// How the next answers go wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// `500 SYSTEM_ERROR`, signed.
    Fail500,
    /// `400 PARAM_ERROR`, signed.
    Fail400,
    /// A normal answer whose signature covers different bytes.
    WrongSignature,
    /// A normal answer without `Wechatpay-*` headers.
    Unsigned,
    /// A normal answer signed under a serial the merchant does not know.
    UnknownSerial,
    /// A normal answer whose timestamp is this many seconds off.
    Skewed(i64),
    /// Answers after this long.
    Slow(Duration),
    /// A 2xx body larger than the client's cap.
    Oversized,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub body: Value,
    pub signature_ok: bool,
}

struct Inner {
    platform: RsaKeyPair,
    now: NowFn,
    mode: Mutex<Mode>,
    /// What a refund request is answered with: `PROCESSING` (WeChat's usual), `SUCCESS`, ….
    refund_status: Mutex<String>,
    seen: Mutex<Vec<Seen>>,
    /// out_trade_no → total fen, for orders created through the fake.
    orders: Mutex<HashMap<String, i64>>,
}

pub struct FakeWechat {
    pub base_url: String,
    inner: Arc<Inner>,
}

impl Inner {
    fn now_secs(&self) -> i64 {
        (self.now)().millis().div_euclid(1_000)
    }
}

impl FakeWechat {
    /// A fake whose clock stands at [`NOW`].
    pub async fn start() -> FakeWechat {
        FakeWechat::start_with_clock(fixed_clock(NOW)).await
    }

    /// A fake that reads "now" from `now`: request freshness and answer timestamps follow it.
    pub async fn start_with_clock(now: NowFn) -> FakeWechat {
        let inner = Arc::new(Inner {
            platform: key_pair(&keys().platform.pkcs8_der),
            now,
            mode: Mutex::new(Mode::Normal),
            refund_status: Mutex::new("PROCESSING".into()),
            seen: Mutex::new(Vec::new()),
            orders: Mutex::new(HashMap::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeWechat { base_url, inner }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = mode;
    }

    /// The `status` the next refund requests are answered with.
    pub fn set_refund_status(&self, status: &str) {
        *self.inner.refund_status.lock().unwrap() = status.to_string();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    pub fn last(&self) -> Seen {
        self.seen().pop().expect("a request reached the fake")
    }
}

/// Checks `Authorization` as WeChat does: scheme, mchid, serial, freshness, then the RSA
/// signature over `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n` with the merchant's key.
fn merchant_signature_ok(now: i64, method: &Method, target: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return false };
    let Some(params) = value.strip_prefix("WECHATPAY2-SHA256-RSA2048 ") else { return false };
    let fields: HashMap<&str, &str> =
        params.split(',').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.trim(), v.trim_matches('"'))).collect();
    let field = |name: &str| fields.get(name).copied().unwrap_or_default();
    let fresh = field("timestamp").parse::<i64>().is_ok_and(|t| (t - now).abs() <= 300);
    let message =
        lines(&[method.as_str().as_bytes(), target.as_bytes(), field("timestamp").as_bytes(), field("nonce_str").as_bytes(), body]);
    field("mchid") == MCHID
        && field("serial_no") == MERCHANT_SERIAL
        && fresh
        && verifies(&keys().merchant.rsa_public_der, &message, field("signature"))
}

fn answer(inner: &Inner, mode: &Mode, status: StatusCode, body: Vec<u8>) -> Response {
    let mut builder = Response::builder().status(status).header("content-type", "application/json");
    let timestamp = match mode {
        Mode::Skewed(secs) => inner.now_secs() + secs,
        _ => inner.now_secs(),
    }
    .to_string();
    let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
    let signed_body = if *mode == Mode::WrongSignature { [body.as_slice(), b" "].concat() } else { body.clone() };
    let signature = sign(&inner.platform, &lines(&[timestamp.as_bytes(), nonce.as_bytes(), &signed_body]));
    let serial = if *mode == Mode::UnknownSerial { "0000000000000000000000000000000000000000" } else { PLATFORM_SERIAL };
    if *mode != Mode::Unsigned {
        builder = builder
            .header("Wechatpay-Timestamp", timestamp)
            .header("Wechatpay-Nonce", nonce)
            .header("Wechatpay-Signature", signature)
            .header("Wechatpay-Serial", serial);
    }
    builder.body(Body::from(body)).unwrap()
}

fn json_answer(inner: &Inner, mode: &Mode, status: StatusCode, body: Value) -> Response {
    answer(inner, mode, status, body.to_string().into_bytes())
}

fn error(inner: &Inner, status: StatusCode, code: &str, message: &str) -> Response {
    json_answer(inner, &Mode::Normal, status, json!({ "code": code, "message": message }))
}

async fn handle(State(inner): State<Arc<Inner>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let target = uri.path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_default();
    let signature_ok = merchant_signature_ok(inner.now_secs(), &method, &target, &headers, &body);
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path_and_query: target.clone(),
        body: json_body.clone(),
        signature_ok,
    });
    if !signature_ok {
        // WeChat does not sign the answer to a request it could not authenticate.
        let body = json!({"code": "SIGN_ERROR", "message": "签名错误"}).to_string();
        return Response::builder().status(StatusCode::UNAUTHORIZED).body(Body::from(body)).unwrap();
    }
    if !headers.contains_key("user-agent") {
        return error(&inner, StatusCode::BAD_REQUEST, "PARAM_ERROR", "User-Agent is required");
    }
    let mode = inner.mode.lock().unwrap().clone();
    match &mode {
        Mode::Slow(delay) => tokio::time::sleep(*delay).await,
        Mode::Fail500 => return error(&inner, StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", "系统错误"),
        Mode::Fail400 => return error(&inner, StatusCode::BAD_REQUEST, "PARAM_ERROR", "参数错误"),
        Mode::Oversized => return answer(&inner, &mode, StatusCode::OK, vec![b' '; 300 * 1024]),
        _ => {}
    }
    route(&inner, &mode, &method, uri.path(), uri.query().unwrap_or_default(), &json_body)
}

fn route(inner: &Inner, mode: &Mode, method: &Method, path: &str, query: &str, body: &Value) -> Response {
    const ORDER_PREFIX: &str = "/v3/pay/transactions/out-trade-no/";
    match (method.as_str(), path) {
        ("POST", "/v3/pay/transactions/jsapi" | "/v3/pay/transactions/h5") => {
            let h5 = path.ends_with("/h5");
            let complete = body["appid"].is_string()
                && body["mchid"] == MCHID
                && body["description"].is_string()
                && body["notify_url"].is_string()
                && body["amount"]["total"].is_i64()
                && body["amount"]["currency"] == "CNY"
                && if h5 {
                    body["scene_info"]["h5_info"]["type"] == "Wap" && body["scene_info"]["payer_client_ip"].is_string()
                } else {
                    body["payer"]["openid"].is_string()
                };
            let Some(out_trade_no) = body["out_trade_no"].as_str().filter(|_| complete) else {
                return error(inner, StatusCode::BAD_REQUEST, "PARAM_ERROR", "缺少参数");
            };
            inner.orders.lock().unwrap().insert(out_trade_no.to_string(), body["amount"]["total"].as_i64().unwrap_or_default());
            let answer_body = if h5 {
                json!({"h5_url": format!("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx{out_trade_no}&package=1")})
            } else {
                json!({"prepay_id": format!("wx{out_trade_no}")})
            };
            json_answer(inner, mode, StatusCode::OK, answer_body)
        }
        ("POST", "/v3/refund/domestic/refunds") => {
            let refund = body["amount"]["refund"].as_i64().unwrap_or_default();
            let total = body["amount"]["total"].as_i64().unwrap_or_default();
            json_answer(
                inner,
                mode,
                StatusCode::OK,
                json!({
                    "refund_id": "50000000382019052709732678859",
                    "out_refund_no": body["out_refund_no"],
                    "transaction_id": "1217752501201407033233368018",
                    "out_trade_no": body["out_trade_no"],
                    "channel": "ORIGINAL",
                    "user_received_account": "招商银行信用卡0403",
                    "create_time": "2026-11-02T10:00:00+08:00",
                    "status": inner.refund_status.lock().unwrap().clone(),
                    "funds_account": "AVAILABLE",
                    "amount": {"total": total, "refund": refund, "payer_total": total, "payer_refund": refund,
                               "settlement_refund": refund, "settlement_total": total, "discount_refund": 0, "currency": "CNY"}
                }),
            )
        }
        ("GET", _) if path.starts_with(ORDER_PREFIX) => {
            if query != format!("mchid={MCHID}") {
                return error(inner, StatusCode::BAD_REQUEST, "PARAM_ERROR", "mchid 缺失");
            }
            let out_trade_no = &path[ORDER_PREFIX.len()..];
            let Some(total) = inner.orders.lock().unwrap().get(out_trade_no).copied() else {
                return error(inner, StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在");
            };
            json_answer(
                inner,
                mode,
                StatusCode::OK,
                json!({
                    "appid": super::APPID, "mchid": MCHID, "out_trade_no": out_trade_no,
                    "transaction_id": "4200001234202611020000000001", "trade_type": "JSAPI",
                    "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "CMC",
                    "success_time": "2026-11-02T10:00:00+08:00",
                    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
                    "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"}
                }),
            )
        }
        ("POST", _) if path.starts_with(ORDER_PREFIX) && path.ends_with("/close") => {
            if body["mchid"] != MCHID {
                return error(inner, StatusCode::BAD_REQUEST, "PARAM_ERROR", "mchid 缺失");
            }
            answer(inner, mode, StatusCode::NO_CONTENT, Vec::new())
        }
        _ => error(inner, StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "无此接口"),
    }
}
