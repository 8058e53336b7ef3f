//! T5: nothing acknowledged is lost in a crash.
//!
//! The release server runs on a SQLite file under order load and is killed with SIGKILL
//! again and again, restarted each time. Afterwards every order the server acknowledged (a 200
//! with an order id) must exist, and `sharemall check` (stock conservation, order and payment
//! consistency, SQLite's integrity check) must pass.
//!
//! Needs the release binary: `SHAREMALL_CRASH_TEST_BIN=target/release/sharemall cargo test -p
//! sharemall --test crash -- --ignored`. CI runs it.

use serde_json::{Value, json};
use std::collections::HashSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::{Child, Command};

const KILLS: usize = 10;
const LOAD_BEFORE_KILL: Duration = Duration::from_millis(2_000);
const CONCURRENCY: usize = 32;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(18_080)
}

/// Not `reqwest::Client::new()`: with the app's TLS backend in the build that panics unless a
/// rustls provider is installed (see `sharemall_wechatpay::http_client_builder`).
fn http_client() -> reqwest::Client {
    match sharemall_wechatpay::http_client_builder().map(|b| b.build()) {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!("http client: {e}"),
        Err(e) => panic!("http client: {e}"),
    }
}

async fn start(bin: &str, db: &str, port: u16, demo: bool) -> Child {
    let mut args = vec!["serve".to_string(), "--bind".into(), format!("127.0.0.1:{port}"), "--database-url".into(), db.to_string()];
    if demo {
        args.push("--demo".into());
    }
    let child =
        Command::new(bin).args(&args).env("RUST_LOG", "error").stdout(Stdio::null()).stderr(Stdio::null()).kill_on_drop(true).spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => panic!("cannot start {bin}: {e}"),
    };
    let client = http_client();
    for _ in 0..600 {
        if client.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become ready");
}

async fn json(response: reqwest::Response) -> Value {
    response.json::<Value>().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release binary; run by CI with SHAREMALL_CRASH_TEST_BIN"]
async fn acknowledged_orders_survive_kill_9() {
    let Ok(bin) = std::env::var("SHAREMALL_CRASH_TEST_BIN") else { panic!("set SHAREMALL_CRASH_TEST_BIN to the release binary") };
    let dir = std::env::temp_dir().join(format!("sharemall-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let db = format!("sqlite://{}", dir.join("crash.db").display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();

    // Arrange: the demo platform, a customer's bearer token, every SKU of one shop.
    let mut server = start(&bin, &db, port, true).await;
    // The demo is seeded while the server already answers; wait until its customer exists.
    let mut signed = Value::Null;
    for _ in 0..600 {
        let sign_in =
            client.post(format!("{base}/api/v1/auth/sign-in")).json(&json!({"login": "13900000001", "password": "sharemall-demo"}));
        signed = json(sign_in.send().await.unwrap_or_else(|e| panic!("{e}"))).await;
        if signed["token"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = signed["token"].as_str().unwrap_or_else(|| panic!("no token: {signed}")).to_string();
    let shops = json(client.get(format!("{base}/api/v1/shops")).send().await.unwrap_or_else(|e| panic!("{e}"))).await;
    let shop = shops[0]["id"].as_str().unwrap_or_else(|| panic!("no shop: {shops}")).to_string();
    let home = json(client.get(format!("{base}/api/v1/shops/{shop}?per_page=100")).send().await.unwrap_or_else(|e| panic!("{e}"))).await;
    let skus: Vec<String> = home["products"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["skus"].as_array().into_iter().flatten())
        .filter_map(|s| s["id"].as_str().map(String::from))
        .collect();
    assert!(!skus.is_empty(), "the demo shop has SKUs");

    // Act: load, kill -9, restart, repeatedly.
    let acknowledged = Arc::new(Mutex::new(HashSet::<String>::new()));
    let mut sent_total = 0u64;
    for round in 0..KILLS {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut workers = Vec::new();
        for w in 0..CONCURRENCY {
            let (client, base, token, shop, skus, acknowledged, stop) =
                (client.clone(), base.clone(), token.clone(), shop.clone(), skus.clone(), Arc::clone(&acknowledged), Arc::clone(&stop));
            workers.push(tokio::spawn(async move {
                let mut sent = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let sku = &skus[(w + sent as usize) % skus.len()];
                    let body = json!({"shop_id": shop, "items": [{"sku_id": sku, "quantity": 1}], "recipient": "崩溃测试", "phone": "13900000001", "address": "上海市浦东新区"});
                    let response = client
                        .post(format!("{base}/api/v1/orders"))
                        .bearer_auth(&token)
                        .header("idempotency-key", format!("crash-{round}-{w}-{sent}"))
                        .json(&body)
                        .send()
                        .await;
                    sent += 1;
                    let Ok(response) = response else { break };
                    if response.status().is_success() {
                        let placed = json(response).await;
                        if let Some(id) = placed["order_id"].as_str() {
                            acknowledged.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string());
                        }
                    }
                }
                sent
            }));
        }
        tokio::time::sleep(LOAD_BEFORE_KILL).await;
        // SIGKILL: no shutdown path runs.
        server.start_kill().unwrap_or_else(|e| panic!("kill: {e}"));
        let _ = server.wait().await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for worker in workers {
            sent_total += worker.await.unwrap_or(0);
        }
        server = start(&bin, &db, port, false).await;
    }

    // Assert: every acknowledged order is there, and every invariant holds.
    let acknowledged = acknowledged.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut missing = 0usize;
    for id in &acknowledged {
        let response = client.get(format!("{base}/api/v1/orders/{id}")).bearer_auth(&token).send().await.unwrap_or_else(|e| panic!("{e}"));
        if response.status() != reqwest::StatusCode::OK {
            missing += 1;
        }
    }
    server.start_kill().unwrap_or_else(|e| panic!("{e}"));
    let _ = server.wait().await;
    let check = std::process::Command::new(&bin).args(["check", "--database-url", &db]).output().unwrap_or_else(|e| panic!("{e}"));
    let report = String::from_utf8_lossy(&check.stdout);
    println!(
        "T5: {KILLS} kills, {sent_total} order requests sent, {} acknowledged, {missing} acknowledged orders missing",
        acknowledged.len()
    );
    println!("{report}");
    assert!(acknowledged.len() > 100, "the load placed orders");
    assert_eq!(missing, 0, "acknowledged orders lost");
    assert!(check.status.success(), "sharemall check failed:\n{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
