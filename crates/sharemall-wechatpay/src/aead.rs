//! AES-256-GCM decryption of the `resource` WeChat puts in callbacks.
//!
//! The signature on a callback proves WeChat sent the envelope; the GCM tag proves the
//! resource inside was sealed with our APIv3 key, which only WeChat and we hold. So a resource
//! that does not open is treated like a bad signature: nothing in it can be trusted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sharemall_domain::{Error, ErrorCode};

/// Length of the GCM tag WeChat appends to the ciphertext.
pub const TAG_LEN: usize = 16;

/// The APIv3 key, ready to open resources.
pub(crate) struct ResourceKey {
    key: LessSafeKey,
}

impl ResourceKey {
    /// `api_v3_key` must be exactly 32 bytes (checked by [`Config::validate`](crate::Config::validate)).
    pub fn new(api_v3_key: &[u8]) -> Result<ResourceKey, Error> {
        let key = UnboundKey::new(&AES_256_GCM, api_v3_key)
            .map_err(|_| Error::invalid("payments.wechat.api_v3_key: must be exactly 32 bytes"))?;
        Ok(ResourceKey { key: LessSafeKey::new(key) })
    }

    /// Opens `ciphertext_b64` (ciphertext with the 16-byte tag at the end) with the resource's
    /// 12-character `nonce` and its `associated_data`.
    pub fn open(&self, nonce: &str, associated_data: &str, ciphertext_b64: &str) -> Result<Vec<u8>, Error> {
        let refuse = |why: &str| Error::new(ErrorCode::BadSignature, format!("notification resource: {why}"));
        if nonce.len() != NONCE_LEN {
            return Err(refuse("nonce is not 12 bytes"));
        }
        let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| refuse("nonce is not 12 bytes"))?;
        let mut sealed = STANDARD.decode(ciphertext_b64).map_err(|_| refuse("ciphertext is not base64"))?;
        if sealed.len() < TAG_LEN {
            return Err(refuse("ciphertext is shorter than its tag"));
        }
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut sealed)
            .map_err(|_| refuse("AES-GCM tag does not verify (wrong APIv3 key or altered ciphertext)"))?;
        let len = plain.len();
        sealed.truncate(len);
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const KEY: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

    fn seal(key: &[u8], nonce: &str, aad: &str, plain: &[u8]) -> String {
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
        let mut data = plain.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes()).unwrap();
        key.seal_in_place_append_tag(nonce, Aad::from(aad.as_bytes()), &mut data).unwrap();
        STANDARD.encode(data)
    }

    #[test]
    fn opens_what_was_sealed_and_nothing_else() {
        let key = ResourceKey::new(KEY).unwrap();
        let sealed = seal(KEY, "abcdefghijkl", "transaction", b"{\"a\":1}");
        assert_eq!(key.open("abcdefghijkl", "transaction", &sealed).unwrap(), b"{\"a\":1}");
        let refused = |r: Result<Vec<u8>, Error>| assert_eq!(r.unwrap_err().code, ErrorCode::BadSignature);
        refused(key.open("abcdefghijkm", "transaction", &sealed));
        refused(key.open("abcdefghijkl", "refund", &sealed));
        refused(key.open("short", "transaction", &sealed));
        refused(key.open("abcdefghijkl", "transaction", "not base64!"));
        refused(key.open("abcdefghijkl", "transaction", &STANDARD.encode([0u8; 8])));
        let other = seal(b"fedcba9876543210fedcba9876543210", "abcdefghijkl", "transaction", b"{}");
        refused(key.open("abcdefghijkl", "transaction", &other));
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        assert!(ResourceKey::new(b"short").is_err());
    }
}
