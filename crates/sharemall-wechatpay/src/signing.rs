//! RSA-SHA256 (PKCS#1 v1.5) both ways: the merchant signs requests and JSAPI pay parameters,
//! WeChat's platform key signs responses and callbacks.
//!
//! Every signed message is a list of lines, each ending in `\n` (the last one too). A field
//! that itself contained `\n` could move the line boundaries, so the header fields that go into
//! a message are checked for that before use.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey};
use sharemall_domain::payment::check_callback_time;
use sharemall_domain::{Error, ErrorCode};

use crate::config::bad;
use crate::pem;

/// The signature scheme named in the `Authorization` header.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// WeChat sends callbacks signed with this prefix to probe whether a merchant really verifies;
/// they never verify, and must never be accepted.
pub const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";
/// A base64 RSA-8192 signature is 1,368 characters; anything longer is not a signature.
const MAX_SIGNATURE_CHARS: usize = 2_048;
const MAX_NONCE_CHARS: usize = 64;

/// Joins `lines` into the signed form: each line followed by `\n`.
pub(crate) fn message(lines: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

/// A fresh 32-character nonce. WeChat only needs uniqueness; a CSPRNG gives that for free.
pub(crate) fn new_nonce(rng: &SystemRandom) -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes).map_err(|_| Error::internal("system random generator failed"))?;
    Ok(hex::encode_upper(bytes))
}

/// The merchant's private key, with the identity it signs as.
pub(crate) struct MerchantSigner {
    key: RsaKeyPair,
    rng: SystemRandom,
    mchid: String,
    serial_no: String,
}

impl MerchantSigner {
    pub fn from_pem(pem_text: &str, mchid: &str, serial_no: &str) -> Result<MerchantSigner, Error> {
        let field = "merchant_private_key_pem";
        let block = pem::decode_pem(pem_text).map_err(|e| bad(field, &e))?;
        let key = match block.label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&block.der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&block.der),
            other => return Err(bad(field, &format!("expected a PRIVATE KEY (PKCS#8) PEM, found '{other}'"))),
        }
        .map_err(|e| bad(field, &format!("not a usable RSA private key: {e}")))?;
        Ok(MerchantSigner { key, rng: SystemRandom::new(), mchid: mchid.to_string(), serial_no: serial_no.to_string() })
    }

    pub fn rng(&self) -> &SystemRandom {
        &self.rng
    }

    /// Signs `message` and returns the signature in standard base64.
    pub fn sign(&self, message: &[u8]) -> Result<String, Error> {
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .map_err(|_| Error::internal("RSA signing with the merchant key failed"))?;
        Ok(STANDARD.encode(signature))
    }

    /// The `Authorization` header value for one request. `path_and_query` is exactly what goes
    /// on the request line (`/v3/…?mchid=…`); `body` is exactly the bytes sent (empty for GET).
    pub fn authorization(&self, method: &str, path_and_query: &str, timestamp: u64, nonce: &str, body: &[u8]) -> Result<String, Error> {
        let timestamp = timestamp.to_string();
        let signed = message(&[method.as_bytes(), path_and_query.as_bytes(), timestamp.as_bytes(), nonce.as_bytes(), body]);
        let signature = self.sign(&signed)?;
        Ok(format!(
            "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.mchid, self.serial_no
        ))
    }
}

/// The four `Wechatpay-*` headers WeChat puts on responses and callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
}

impl SignatureHeaders {
    pub const TIMESTAMP: &'static str = "Wechatpay-Timestamp";
    pub const NONCE: &'static str = "Wechatpay-Nonce";
    pub const SIGNATURE: &'static str = "Wechatpay-Signature";
    pub const SERIAL: &'static str = "Wechatpay-Serial";

    /// Reads the headers. `None` when any is missing or not visible ASCII: such a message is
    /// unsigned as far as we are concerned.
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Option<SignatureHeaders> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
        Some(SignatureHeaders {
            timestamp: get(Self::TIMESTAMP)?,
            nonce: get(Self::NONCE)?,
            signature: get(Self::SIGNATURE)?,
            serial: get(Self::SERIAL)?,
        })
    }

    /// True when any of the four headers is present: then all four must verify.
    pub fn any_present(headers: &reqwest::header::HeaderMap) -> bool {
        [Self::TIMESTAMP, Self::NONCE, Self::SIGNATURE, Self::SERIAL].iter().any(|name| headers.contains_key(*name))
    }
}

fn bad_signature(why: &str) -> Error {
    Error::new(ErrorCode::BadSignature, why)
}

/// WeChat's platform public keys by serial (upper-cased: serials are hex or `PUB_KEY_ID_…`).
pub(crate) struct PlatformVerifier {
    keys: HashMap<String, Vec<u8>>,
}

impl PlatformVerifier {
    pub fn from_certs(certs: &[crate::config::PlatformCert]) -> Result<PlatformVerifier, Error> {
        let mut keys = HashMap::new();
        for (i, cert) in certs.iter().enumerate() {
            let der =
                pem::rsa_public_key_from_pem(&cert.public_key_pem).map_err(|e| bad(&format!("platform_certs[{i}].public_key_pem"), &e))?;
            keys.insert(cert.serial.to_ascii_uppercase(), der);
        }
        Ok(PlatformVerifier { keys })
    }

    /// Verifies `timestamp\nnonce\nbody\n` against the signature, then the timestamp's
    /// freshness.
    ///
    /// The order matters for what a code means: `BadSignature` for anything not provably from
    /// WeChat (probe, unknown serial, bad base64, wrong key or bytes); `StaleCallback` only for a
    /// message WeChat really signed but more than 300 s away from `now_unix_secs` — a late
    /// delivery or a replay, since the timestamp is covered by the signature.
    pub fn verify(&self, headers: &SignatureHeaders, body: &[u8], now_unix_secs: i64) -> Result<(), Error> {
        let SignatureHeaders { timestamp, nonce, signature, serial } = headers;
        if signature.starts_with(SIGNTEST_PREFIX) {
            return Err(bad_signature("WeChat signature probe (WECHATPAY/SIGNTEST/) refused"));
        }
        if timestamp.is_empty() || timestamp.len() > 12 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_signature("Wechatpay-Timestamp is not a Unix time in seconds"));
        }
        if nonce.is_empty() || nonce.len() > MAX_NONCE_CHARS || nonce.bytes().any(|b| b.is_ascii_control()) {
            return Err(bad_signature("Wechatpay-Nonce is empty, too long or has control characters"));
        }
        let key = self
            .keys
            .get(&serial.to_ascii_uppercase())
            .ok_or_else(|| bad_signature("Wechatpay-Serial names no configured platform key"))?;
        if signature.len() > MAX_SIGNATURE_CHARS {
            return Err(bad_signature("Wechatpay-Signature is too long"));
        }
        let signature = STANDARD.decode(signature).map_err(|_| bad_signature("Wechatpay-Signature is not base64"))?;
        let signed = message(&[timestamp.as_bytes(), nonce.as_bytes(), body]);
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
            .verify(&signed, &signature)
            .map_err(|_| bad_signature("Wechatpay-Signature does not verify with the platform key"))?;
        let sent: i64 = timestamp.parse().map_err(|_| bad_signature("Wechatpay-Timestamp is out of range"))?;
        let (sent_ms, now_ms) = match (sent.checked_mul(1_000), now_unix_secs.checked_mul(1_000)) {
            (Some(sent), Some(now)) => (sent, now),
            _ => return Err(Error::new(ErrorCode::StaleCallback, "timestamp out of range")),
        };
        check_callback_time(sent_ms, now_ms)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn messages_end_every_line_with_a_newline() {
        assert_eq!(message(&[b"GET", b"/v3/x", b"1", b"N", b""]), b"GET\n/v3/x\n1\nN\n\n");
        assert_eq!(message(&[b"1", b"N", b"{}"]), b"1\nN\n{}\n");
    }

    #[test]
    fn nonces_are_32_hex_characters_and_differ() {
        let rng = SystemRandom::new();
        let (a, b) = (new_nonce(&rng).unwrap(), new_nonce(&rng).unwrap());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn header_checks_come_before_any_key_lookup() {
        let verifier = PlatformVerifier { keys: HashMap::new() };
        let headers = |timestamp: &str, nonce: &str, signature: &str| SignatureHeaders {
            timestamp: timestamp.into(),
            nonce: nonce.into(),
            signature: signature.into(),
            serial: "S".into(),
        };
        for h in [
            headers("1", "n", "WECHATPAY/SIGNTEST/abc"),
            headers("12a", "n", "abc"),
            headers("", "n", "abc"),
            headers("1", "", "abc"),
            headers("1", "a\u{7}b", "abc"),
            headers("1", "n", "abc"),
        ] {
            assert_eq!(verifier.verify(&h, b"{}", 1).unwrap_err().code, ErrorCode::BadSignature, "{h:?}");
        }
    }
}
