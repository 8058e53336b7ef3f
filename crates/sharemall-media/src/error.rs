/// Why a QR code, poster or card could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// No font could be loaded; the text says which paths were tried and why each failed.
    #[error("no usable CJK font: {0}")]
    FontUnavailable(String),
    /// The QR encoder refused the data.
    #[error("QR code: {0}")]
    Qr(String),
    /// The PNG encoder failed.
    #[error("PNG encoding: {0}")]
    Encode(String),
    /// A field is over its limit; the payload names the field.
    #[error("{0} is too long")]
    TooLong(&'static str),
}
