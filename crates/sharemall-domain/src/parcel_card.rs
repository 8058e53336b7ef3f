//! Parcel insert cards (包裹卡, SPEC 3.3): the words a shop prints on the A6 card it slips into
//! each parcel, above a QR code that brings the buyer back through a share of the shop.
//!
//! The limits are what the printed card holds at a readable size: the message wraps to at most
//! five lines of the card, the offer is one large line.

use crate::error::Error;

/// Longest message, in characters.
pub const MESSAGE_MAX_CHARS: usize = 80;
/// Longest offer (the reason to scan, e.g. "扫码入会 领红包"), in characters.
pub const OFFER_MAX_CHARS: usize = 24;

/// Checks a card's message (1–80 characters once trimmed) and returns it trimmed. Line breaks
/// are kept (the card prints them); `\r\n` becomes `\n`; other control characters are refused.
pub fn check_message(text: &str) -> Result<String, Error> {
    let text = text.trim().replace("\r\n", "\n");
    let count = text.chars().count();
    if !(1..=MESSAGE_MAX_CHARS).contains(&count) || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(format!("the card's message must be 1 to {MESSAGE_MAX_CHARS} characters")));
    }
    Ok(text)
}

/// Checks a card's offer (1–24 characters on one line once trimmed) and returns it trimmed.
pub fn check_offer(text: &str) -> Result<String, Error> {
    let text = text.trim();
    let count = text.chars().count();
    if !(1..=OFFER_MAX_CHARS).contains(&count) || text.chars().any(char::is_control) {
        return Err(Error::invalid(format!("the card's offer must be 1 to {OFFER_MAX_CHARS} characters on one line")));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn limits_count_characters_not_bytes() {
        // 80 Chinese characters are 240 bytes: still within the limit.
        let eighty = "谢".repeat(MESSAGE_MAX_CHARS);
        assert_eq!(check_message(&eighty).unwrap(), eighty);
        assert_eq!(check_message(&format!("{eighty}谢")).unwrap_err().code, ErrorCode::InvalidInput);
        let offer = "领".repeat(OFFER_MAX_CHARS);
        assert_eq!(check_offer(&format!("  {offer}  ")).unwrap(), offer);
        assert!(check_offer(&format!("{offer}领")).is_err());
    }

    #[test]
    fn blank_text_and_control_characters_are_refused() {
        assert!(check_message("   \n ").is_err());
        assert!(check_offer("").is_err());
        assert!(check_offer("扫码\n入会").is_err(), "the offer is one line");
        assert!(check_message("谢谢\u{7}").is_err());
        assert_eq!(check_message(" 谢谢惠顾\r\n欢迎再来 ").unwrap(), "谢谢惠顾\n欢迎再来");
    }
}
