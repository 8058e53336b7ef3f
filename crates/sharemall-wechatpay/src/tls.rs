//! The HTTP client's TLS. With the `rustls-ring` feature: rustls on the ring provider (ring is
//! already here for the signatures, so no second crypto library is built) trusting the webpki
//! (Mozilla) roots compiled into the binary, so reaching WeChat does not depend on the host's CA
//! bundle. Without it: no TLS at all, which is enough for the fake server on loopback.

use sharemall_domain::Error;

/// A `reqwest` builder with this crate's TLS choice. Use it for every client in a process
/// that enables `rustls-ring`.
///
/// Why "every": reqwest's `rustls-no-provider` makes *any* client built without a process-wide
/// rustls provider panic, and features are unified across a build, so one crate enabling TLS
/// changes every other crate's `reqwest::Client::new()`. This installs ring as that provider
/// (once; a provider already installed is kept), and gives this client the ring provider and
/// the webpki roots explicitly.
///
/// rustls 0.23.48 marks the ring provider deprecated because ring has no post-quantum key
/// exchange (X25519MLKEM768); connections use X25519 or ECDHE instead. We accept that for
/// calls to WeChat (order and refund requests, answered within seconds, of little worth to
/// someone recording traffic to decrypt in decades) rather than build aws-lc's C on every
/// clean build. Revisit when ring gains ML-KEM.
#[cfg(feature = "rustls-ring")]
#[allow(deprecated)]
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    use std::sync::Arc;
    // `Err` only means a provider is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls))
}

/// A `reqwest` builder without TLS (the `rustls-ring` feature is off).
#[cfg(not(feature = "rustls-ring"))]
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    Ok(reqwest::Client::builder())
}
