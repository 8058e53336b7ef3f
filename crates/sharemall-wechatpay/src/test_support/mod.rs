//! Test support, behind the `test-support` feature (never in a release build): RSA keys made
//! by the `openssl` CLI (never committed), the crypto WeChat's side performs, written against
//! ring directly so the tests do not trust the library's own code, a fake WeChat Pay server and
//! signed notifications. Shared by this crate's tests and the app's, so both speak to the same
//! fake. Panics are the point here: a broken fixture must stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fake;
pub mod notification;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use crate::{Config, NowFn, PlatformCert};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{HeaderMap, HeaderValue};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey};
use sharemall_domain::Timestamp;

pub const MCHID: &str = "1900000109";
pub const APPID: &str = "wxd678efh567hg6787";
pub const MERCHANT_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD4D7C3A3F";
pub const PLATFORM_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// A second serial for the same platform key, configured as an X.509 certificate.
pub const PLATFORM_CERT_SERIAL: &str = "PUB_KEY_ID_0119000001092026110200000000";
pub const API_V3_KEY: &str = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6";
pub const NOTIFY_URL: &str = "https://shop.example.com/api/v1/payments/wechat/notify";
/// The fixed "now" of every test, in Unix seconds (2027-01-15).
pub const NOW: i64 = 1_800_000_000;

/// One RSA-2048 key in every form the tests need.
pub struct KeyPair {
    pub pkcs8_pem: String,
    pub pkcs1_private_pem: String,
    pub spki_pem: String,
    pub pkcs1_public_pem: String,
    pub cert_pem: String,
    pub pkcs8_der: Vec<u8>,
    pub rsa_public_der: Vec<u8>,
}

pub struct Keys {
    pub merchant: KeyPair,
    pub platform: KeyPair,
    /// Belongs to nobody: signs what must not verify.
    pub stranger: KeyPair,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("/usr/bin/openssl").args(args).current_dir(dir).output().expect("run /usr/bin/openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn generate(dir: &Path, name: &str) -> KeyPair {
    let file = |ext: &str| format!("{name}.{ext}");
    let (raw, key, rsa, public, public1, der, public_der, cert) = (
        file("raw.pem"),
        file("pkcs8.pem"),
        file("pkcs1.pem"),
        file("spki.pem"),
        file("rsapub.pem"),
        file("pkcs8.der"),
        file("rsapub.der"),
        file("cert.pem"),
    );
    openssl(dir, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", &raw]);
    openssl(dir, &["pkcs8", "-topk8", "-nocrypt", "-in", &raw, "-out", &key]);
    openssl(dir, &["rsa", "-in", &key, "-traditional", "-out", &rsa]);
    openssl(dir, &["pkey", "-in", &key, "-pubout", "-out", &public]);
    openssl(dir, &["rsa", "-in", &key, "-RSAPublicKey_out", "-out", &public1]);
    openssl(dir, &["pkcs8", "-topk8", "-nocrypt", "-in", &raw, "-outform", "DER", "-out", &der]);
    openssl(dir, &["rsa", "-in", &key, "-RSAPublicKey_out", "-outform", "DER", "-out", &public_der]);
    openssl(dir, &["req", "-new", "-x509", "-key", &key, "-subj", "/CN=WeChat Pay test platform", "-days", "2", "-out", &cert]);
    let text = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let bytes = |f: &str| std::fs::read(dir.join(f)).unwrap();
    KeyPair {
        pkcs8_pem: text(&key),
        pkcs1_private_pem: text(&rsa),
        spki_pem: text(&public),
        pkcs1_public_pem: text(&public1),
        cert_pem: text(&cert),
        pkcs8_der: bytes(&der),
        rsa_public_der: bytes(&public_der),
    }
}

/// The keys, generated once per test binary. The temp directory is deleted as soon as the
/// files are read back: keys only ever live in memory and a short-lived temp dir.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys {
            merchant: generate(dir.path(), "merchant"),
            platform: generate(dir.path(), "platform"),
            stranger: generate(dir.path(), "stranger"),
        };
        dir.close().unwrap();
        keys
    })
}

pub fn fixed_clock(secs: i64) -> NowFn {
    Arc::new(move || Timestamp(secs * 1_000))
}

/// A valid config: the platform key under its serial (SPKI) and again under a second serial
/// as a certificate.
pub fn config(base_url: &str) -> Config {
    let keys = keys();
    let mut config = Config::new(
        MCHID,
        APPID,
        MERCHANT_SERIAL,
        keys.merchant.pkcs8_pem.clone(),
        API_V3_KEY,
        vec![
            PlatformCert { serial: PLATFORM_SERIAL.into(), public_key_pem: keys.platform.spki_pem.clone() },
            PlatformCert { serial: PLATFORM_CERT_SERIAL.into(), public_key_pem: keys.platform.cert_pem.clone() },
        ],
        NOTIFY_URL,
    );
    config.base_url = base_url.to_string();
    config
}

pub fn key_pair(pkcs8_der: &[u8]) -> RsaKeyPair {
    RsaKeyPair::from_pkcs8(pkcs8_der).unwrap()
}

/// RSA-SHA256 PKCS#1 v1.5, base64: what WeChat's platform does.
pub fn sign(key: &RsaKeyPair, message: &[u8]) -> String {
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature).unwrap();
    STANDARD.encode(signature)
}

pub fn verifies(rsa_public_der: &[u8], message: &[u8], signature_b64: &str) -> bool {
    let Ok(signature) = STANDARD.decode(signature_b64) else { return false };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, rsa_public_der).verify(message, &signature).is_ok()
}

/// AES-256-GCM seal, ciphertext with the tag appended, base64.
pub fn seal(key: &[u8], nonce: &str, aad: &str, plain: &[u8]) -> String {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let mut data = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::try_assume_unique_for_key(nonce.as_bytes()).unwrap(), Aad::from(aad.as_bytes()), &mut data)
        .unwrap();
    STANDARD.encode(data)
}

/// `a\nb\nc\n`
pub fn lines(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(part);
        out.push(b'\n');
    }
    out
}

pub fn signature_headers(timestamp: &str, nonce: &str, signature: &str, serial: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in
        [("Wechatpay-Timestamp", timestamp), ("Wechatpay-Nonce", nonce), ("Wechatpay-Signature", signature), ("Wechatpay-Serial", serial)]
    {
        headers.insert(name, HeaderValue::from_str(value).unwrap());
    }
    headers
}
