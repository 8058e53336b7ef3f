//! Just enough PEM and DER to hand ring the key bytes it wants.
//!
//! ring signs with a PKCS#8 (or PKCS#1) private key and verifies over the PKCS#1 `RSAPublicKey`
//! DER, but WeChat hands out PKCS#8 PEM private keys, SPKI PEM public keys ("微信支付公钥") and
//! X.509 platform certificates. Rather than pull in an ASN.1 stack for three fixed shapes, this
//! module walks the few DER elements needed and refuses anything else with a message that says
//! what was expected.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Key material is a few kilobytes; anything far larger is not a key.
const MAX_PEM_BYTES: usize = 64 * 1024;

/// DER object identifier `rsaEncryption` (1.2.840.113549.1.1.1), content bytes only.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_NULL: u8 = 0x05;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;
/// `[0] EXPLICIT` — the version field that opens an X.509 v3 `TBSCertificate`.
const TAG_CONTEXT_0: u8 = 0xA0;

/// A decoded PEM block: its label (`PRIVATE KEY`, `PUBLIC KEY`, …) and DER bytes.
#[derive(Debug)]
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Decodes the first PEM block in `text`. Encrypted PEM (RFC 1421 headers) is refused: the
/// service cannot prompt for a passphrase.
pub(crate) fn decode_pem(text: &str) -> Result<PemBlock, String> {
    if text.len() > MAX_PEM_BYTES {
        return Err(format!("PEM text is larger than {MAX_PEM_BYTES} bytes"));
    }
    let mut lines = text.lines().map(str::trim).skip_while(|line| !line.starts_with("-----BEGIN "));
    let begin = lines.next().ok_or("no '-----BEGIN …-----' line found")?;
    let label =
        begin.strip_prefix("-----BEGIN ").and_then(|rest| rest.strip_suffix("-----")).ok_or("malformed PEM BEGIN line")?.to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        if line.contains(':') {
            return Err("encrypted or header-carrying PEM is not supported; export the key unencrypted".into());
        }
        body.push_str(line);
    }
    if !ended {
        return Err(format!("missing '{end}' line"));
    }
    let der = STANDARD.decode(body.as_bytes()).map_err(|e| format!("PEM body is not valid base64: {e}"))?;
    if der.is_empty() {
        return Err("PEM body is empty".into());
    }
    Ok(PemBlock { label, der })
}

/// One DER element: its tag and its content bytes.
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
}

/// Reads one DER element from the front of `input`, returning it and what follows.
/// Only definite lengths up to 4 bytes long are accepted, which covers any key or certificate.
fn read_element(input: &[u8]) -> Result<(Element<'_>, &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("DER ends early (tag)")?;
    let (&first, rest) = rest.split_first().ok_or("DER ends early (length)")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 || rest.len() < count {
            return Err("unsupported or truncated DER length".into());
        }
        let (bytes, rest) = rest.split_at(count);
        let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    if rest.len() < len {
        return Err("DER element is longer than its input".into());
    }
    let (content, rest) = rest.split_at(len);
    Ok((Element { tag, content }, rest))
}

/// Reads one element that must carry `tag`.
fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(Element<'a>, usize), String> {
    let (element, rest) = read_element(input)?;
    if element.tag != tag {
        return Err(format!("expected {what} (DER tag {tag:#04x}), found tag {:#04x}", element.tag));
    }
    Ok((element, input.len() - rest.len()))
}

/// Returns the `RSAPublicKey` DER inside a `SubjectPublicKeyInfo`, after checking that the
/// algorithm is `rsaEncryption`.
pub(crate) fn rsa_public_key_from_spki(spki: &[u8]) -> Result<&[u8], String> {
    let (outer, used) = expect(spki, TAG_SEQUENCE, "SubjectPublicKeyInfo")?;
    if used != spki.len() {
        return Err("trailing bytes after SubjectPublicKeyInfo".into());
    }
    let (algorithm, used) = expect(outer.content, TAG_SEQUENCE, "AlgorithmIdentifier")?;
    let (oid, after_oid) = expect(algorithm.content, TAG_OID, "algorithm OID")?;
    if oid.content != OID_RSA_ENCRYPTION {
        return Err("public key is not an RSA key".into());
    }
    let params = &algorithm.content[after_oid..];
    if !params.is_empty() {
        expect(params, TAG_NULL, "NULL algorithm parameters")?;
    }
    let (bits, used_bits) = expect(&outer.content[used..], TAG_BIT_STRING, "subjectPublicKey BIT STRING")?;
    if used + used_bits != outer.content.len() {
        return Err("trailing bytes inside SubjectPublicKeyInfo".into());
    }
    match bits.content.split_first() {
        Some((0, key)) => Ok(key),
        _ => Err("subjectPublicKey BIT STRING has unused bits".into()),
    }
}

/// Returns the `SubjectPublicKeyInfo` DER (header included) of an X.509 certificate.
/// The certificate's own signature and validity are not checked: the operator configures the
/// platform certificate out of band and pins it by serial, which is what WeChat documents.
pub(crate) fn spki_from_certificate(cert: &[u8]) -> Result<&[u8], String> {
    let (certificate, _) = expect(cert, TAG_SEQUENCE, "Certificate")?;
    let (tbs, _) = expect(certificate.content, TAG_SEQUENCE, "TBSCertificate")?;
    let mut rest = tbs.content;
    let (first, _) = read_element(rest)?;
    if first.tag == TAG_CONTEXT_0 {
        rest = read_element(rest)?.1;
    }
    // serialNumber, signature, issuer, validity, subject — then subjectPublicKeyInfo.
    let (_, used) = expect(rest, TAG_INTEGER, "certificate serial number")?;
    rest = &rest[used..];
    for what in ["signature algorithm", "issuer", "validity", "subject"] {
        let (_, used) = expect(rest, TAG_SEQUENCE, what)?;
        rest = &rest[used..];
    }
    let (_, used) = expect(rest, TAG_SEQUENCE, "SubjectPublicKeyInfo")?;
    Ok(&rest[..used])
}

/// Checks that `der` is an `RSAPublicKey { modulus, publicExponent }` with a 2048–8192-bit
/// modulus, the range ring's `RSA_PKCS1_2048_8192_SHA256` verifies. ring itself only parses the
/// key when verifying, so without this a broken key would pass configuration and fail every
/// callback.
pub(crate) fn check_rsa_public_key(der: &[u8]) -> Result<(), String> {
    let (key, used) = expect(der, TAG_SEQUENCE, "RSAPublicKey")?;
    if used != der.len() {
        return Err("trailing bytes after RSAPublicKey".into());
    }
    let (modulus, used) = expect(key.content, TAG_INTEGER, "RSA modulus")?;
    let (exponent, used_e) = expect(&key.content[used..], TAG_INTEGER, "RSA public exponent")?;
    if used + used_e != key.content.len() {
        return Err("trailing bytes inside RSAPublicKey".into());
    }
    let significant = modulus.content.iter().skip_while(|&&b| b == 0).count();
    let bits = significant * 8;
    if !(2048..=8192).contains(&bits) {
        return Err(format!("RSA modulus is about {bits} bits; 2048 to 8192 are accepted"));
    }
    if exponent.content.is_empty() {
        return Err("RSA public exponent is empty".into());
    }
    Ok(())
}

/// Turns any of the public-key PEM forms WeChat uses into `RSAPublicKey` DER for ring.
pub(crate) fn rsa_public_key_from_pem(text: &str) -> Result<Vec<u8>, String> {
    let block = decode_pem(text)?;
    let key = match block.label.as_str() {
        "PUBLIC KEY" => rsa_public_key_from_spki(&block.der)?.to_vec(),
        "RSA PUBLIC KEY" => block.der,
        "CERTIFICATE" => rsa_public_key_from_spki(spki_from_certificate(&block.der)?)?.to_vec(),
        other => {
            return Err(format!("expected a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE PEM, found '{other}'"));
        }
    };
    check_rsa_public_key(&key)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn pem(label: &str, der: &[u8]) -> String {
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", STANDARD.encode(der))
    }

    #[test]
    fn decodes_a_block_and_skips_leading_text() {
        let text = format!("Bag Attributes\n{}", pem("PUBLIC KEY", b"\x30\x00"));
        let block = decode_pem(&text).unwrap();
        assert_eq!(block.label, "PUBLIC KEY");
        assert_eq!(block.der, b"\x30\x00");
    }

    #[test]
    fn refuses_broken_pem() {
        assert!(decode_pem("not a key").unwrap_err().contains("BEGIN"));
        assert!(decode_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n").unwrap_err().contains("END"));
        assert!(decode_pem("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----").unwrap_err().contains("base64"));
        let encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----";
        assert!(decode_pem(encrypted).unwrap_err().contains("encrypted"));
        assert!(decode_pem(&"A".repeat(MAX_PEM_BYTES + 1)).is_err());
    }

    #[test]
    fn refuses_truncated_and_oversized_der_lengths() {
        assert!(read_element(&[0x30]).is_err());
        assert!(read_element(&[0x30, 0x05, 0x00]).is_err());
        assert!(read_element(&[0x30, 0x85, 1, 2, 3, 4, 5]).is_err());
        assert!(read_element(&[0x30, 0x80]).is_err());
        let (element, rest) = read_element(&[0x02, 0x81, 0x01, 0x07, 0xFF]).unwrap();
        assert_eq!((element.tag, element.content, rest), (0x02, &[0x07][..], &[0xFF][..]));
    }

    #[test]
    fn refuses_a_non_rsa_spki() {
        // AlgorithmIdentifier with id-ecPublicKey (1.2.840.10045.2.1).
        let spki = [0x30, 0x0D, 0x30, 0x09, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x03, 0x00];
        assert!(rsa_public_key_from_spki(&spki).unwrap_err().contains("not an RSA key"));
    }

    #[test]
    fn refuses_a_small_modulus_and_wrong_labels() {
        let small = [0x30, 0x06, 0x02, 0x01, 0x7F, 0x02, 0x01, 0x03];
        assert!(check_rsa_public_key(&small).unwrap_err().contains("bits"));
        assert!(rsa_public_key_from_pem(&pem("EC PUBLIC KEY", &small)).unwrap_err().contains("found 'EC PUBLIC KEY'"));
    }
}
