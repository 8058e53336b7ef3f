//! Registration, sign-in, sessions and sign-in throttling.

use serde_json::json;

use crate::helpers::{DAY_MS, PASSWORD, random_suffix, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_sign_in_me_sign_out() {
    // Arrange
    let app = spawn_app().await;
    let login = format!("a{}@test.example", random_suffix());

    // Act
    let registered = app.post("/auth/register", None, &json!({"login": login, "password": PASSWORD, "display_name": "小李"})).await;
    let signed_in = app.sign_in(&login, PASSWORD).await;

    // Assert
    let registered = registered.ok();
    assert_eq!(registered["user"]["login"], login.as_str());
    assert!(registered["user"].get("password_hash").is_none());
    let token = signed_in.ok()["token"].as_str().unwrap().to_string();
    assert_ne!(token, registered["token"].as_str().unwrap(), "a new session id at every sign-in");
    let me = app.get("/me", Some(&token)).await;
    assert_eq!(me.ok()["display_name"], "小李");
    assert_eq!(me.json["roles"], json!(["customer"]));

    app.post("/auth/sign-out", Some(&token), &json!({})).await.ok();
    app.get("/me", Some(&token)).await.assert_error(401, "session_expired");
    // The other session is untouched.
    app.get("/me", Some(registered["token"].as_str().unwrap())).await.ok();
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_registration_and_bad_input_are_refused() {
    let app = spawn_app().await;
    let login = format!("d{}@test.example", random_suffix());
    app.post("/auth/register", None, &json!({"login": login, "password": PASSWORD, "display_name": "甲"})).await.ok();

    app.post("/auth/register", None, &json!({"login": login, "password": PASSWORD, "display_name": "乙"}))
        .await
        .assert_error(409, "account_exists");
    app.post("/auth/register", None, &json!({"login": "not-a-login", "password": PASSWORD, "display_name": "丙"}))
        .await
        .assert_error(422, "invalid_phone_or_email");
    app.post(
        "/auth/register",
        None,
        &json!({"login": format!("e{}@test.example", random_suffix()), "password": "short", "display_name": "丁"}),
    )
    .await
    .assert_error(422, "weak_password");
    app.post("/auth/register", None, &json!({"login": login, "password": PASSWORD, "display_name": "x", "role": "operator"}))
        .await
        .assert_error(422, "unknown_field");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM user_roles WHERE role = 'operator'").await, 0);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_bad_credentials_and_the_sixth_attempt_is_throttled() {
    let app = spawn_app().await;
    let login = format!("t{}@test.example", random_suffix());
    app.post("/auth/register", None, &json!({"login": login, "password": PASSWORD, "display_name": "王五"})).await.ok();
    let sessions_before = app.count("SELECT COUNT(*) FROM sessions").await;

    for attempt in 1..=5 {
        let resp = app.sign_in(&login, "wrong password!").await;
        assert_eq!((resp.status, resp.code()), (401, "bad_credentials"), "attempt {attempt}: {}", resp.text);
    }
    app.sign_in(&login, "wrong password!").await.assert_error(429, "too_many_attempts");
    // Throttled means throttled: even the right password waits.
    app.sign_in(&login, PASSWORD).await.assert_error(429, "too_many_attempts");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions_before, "no session was created");

    // The window passes.
    app.advance_ms(16 * 60_000);
    app.sign_in(&login, PASSWORD).await.ok();
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_account_answers_like_a_wrong_password() {
    let app = spawn_app().await;
    app.sign_in(&format!("nobody{}@test.example", random_suffix()), PASSWORD).await.assert_error(401, "bad_credentials");
    app.get("/me", Some("not-a-real-token")).await.assert_error(401, "unauthenticated");
    app.get("/me", None).await.assert_error(401, "unauthenticated");
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_expires_after_90_days() {
    let app = spawn_app().await;
    let customer = app.register_customer().await;

    app.advance_ms(90 * DAY_MS - 60_000);
    app.get("/me", Some(&customer.token)).await.ok();

    app.advance_ms(2 * 60_000);
    app.get("/me", Some(&customer.token)).await.assert_error(401, "session_expired");
    app.get("/orders", Some(&customer.token)).await.assert_error(401, "session_expired");
    app.assert_consistent().await;
}
