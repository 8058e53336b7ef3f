//! One signed round trip to WeChat Pay: sign the request, send it with timeouts, read a capped
//! body, verify the response signature, map failures.

use reqwest::{Method, Url};
use serde::Deserialize;
use sharemall_domain::ErrorCode;

use crate::WechatPay;
use crate::error::ProviderError;
use crate::signing::{SignatureHeaders, new_nonce};

/// Largest response body read. WeChat's answers here are a few kilobytes (an order query with
/// promotion details stays far below this); a larger one is not an answer we can use.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
struct WechatErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

fn transport(e: &reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::unknown(ErrorCode::Timeout, format!("WeChat Pay did not answer in time: {e}"), None)
    } else if e.is_builder() {
        ProviderError::local(ErrorCode::Internal, format!("could not build the request to WeChat Pay: {e}"))
    } else {
        ProviderError::unknown(ErrorCode::Overloaded, format!("could not reach WeChat Pay: {e}"), None)
    }
}

/// Reads at most [`MAX_RESPONSE_BYTES`], refusing early when `Content-Length` says more.
async fn read_capped(mut response: reqwest::Response, status: u16) -> Result<Vec<u8>, ProviderError> {
    let too_large =
        || ProviderError::unknown(ErrorCode::Internal, format!("WeChat Pay answer over {MAX_RESPONSE_BYTES} bytes"), Some(status));
    if response.content_length().is_some_and(|len| len > MAX_RESPONSE_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(&e))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl WechatPay {
    /// Seconds since the Unix epoch from the injected clock, for request timestamps and
    /// response freshness.
    pub(crate) fn now_secs(&self) -> Result<u64, ProviderError> {
        let millis = (self.now)().millis();
        u64::try_from(millis.div_euclid(1_000)).map_err(|_| ProviderError::local(ErrorCode::Internal, "clock is before 1970"))
    }

    /// Sends one request and returns the verified body of a 2xx answer.
    ///
    /// A 2xx answer must carry a valid platform signature: WeChat signs every answer to a
    /// correctly signed request, and an unsigned "success" is what a forger would send. Error
    /// answers are verified when signed; WeChat leaves some unsigned (a 401 for a bad request
    /// signature), and an error can at worst make us not act, so those are believed.
    pub(crate) async fn call(&self, method: Method, path_and_query: &str, body: Option<Vec<u8>>) -> Result<Vec<u8>, ProviderError> {
        let url = Url::parse(&format!("{}{path_and_query}", self.base_url))
            .map_err(|e| ProviderError::local(ErrorCode::Internal, format!("bad WeChat Pay URL: {e}")))?;
        // Sign what goes on the request line, after the URL parser has normalised it.
        let signed_target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let body = body.unwrap_or_default();
        let timestamp = self.now_secs()?;
        let nonce = new_nonce(self.signer.rng()).map_err(|e| ProviderError::local(e.code, e.message))?;
        let authorization = self
            .signer
            .authorization(method.as_str(), &signed_target, timestamp, &nonce, &body)
            .map_err(|e| ProviderError::local(e.code, e.message))?;

        let mut request = self
            .http
            .request(method.clone(), url)
            .timeout(self.request_timeout)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::ACCEPT, "application/json");
        if method != Method::GET {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let answer = read_capped(response, status).await?;

        let success = (200..300).contains(&status);
        if success || SignatureHeaders::any_present(&headers) {
            self.verify_answer(&headers, &answer, status)?;
        }
        if success {
            return Ok(answer);
        }
        let parsed: Option<WechatErrorBody> = serde_json::from_slice(&answer).ok();
        let (code, message) = parsed.map(|b| (b.code, b.message)).unwrap_or((None, None));
        Err(ProviderError::from_response(status, code, message))
    }

    fn verify_answer(&self, headers: &reqwest::header::HeaderMap, body: &[u8], status: u16) -> Result<(), ProviderError> {
        let refuse = |why: String| ProviderError::unknown(ErrorCode::BadSignature, why, Some(status));
        let signature = SignatureHeaders::from_headers(headers)
            .ok_or_else(|| refuse("WeChat Pay answer is not signed (Wechatpay-* headers missing)".into()))?;
        let now = i64::try_from(self.now_secs()?).unwrap_or(i64::MAX);
        self.verifier
            .verify(&signature, body, now)
            .map_err(|e| ProviderError { code: e.code, ..refuse(format!("WeChat Pay answer refused: {}", e.message)) })
    }

    /// Parses a verified 2xx body.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ProviderError> {
        serde_json::from_slice(body)
            .map_err(|e| ProviderError::unknown(ErrorCode::Internal, format!("WeChat Pay {what} answer unreadable: {e}"), None))
    }
}
