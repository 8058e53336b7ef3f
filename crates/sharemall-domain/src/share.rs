//! Shares (SPEC 3.3): unguessable codes, the 口令 text people paste into chats, and finding a
//! code again in whatever text a chat app hands back.
//!
//! A code is 12 base62 characters (71 bits): enough that a scraper cannot guess live codes, short
//! enough to type. The randomness comes from the caller; this module only encodes and parses.

use crate::error::{Error, ErrorCode};

/// Length of every share code.
pub const CODE_LEN: usize = 12;
/// Longest title a 口令 carries after its code.
pub const KOULING_TITLE_MAX: usize = 30;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Symbols that open and close a code in a 口令. Chat apps and input methods turn one into
/// another (full-width ￥ to ¥, or to $), so any of them may stand on either side.
pub const DELIMITERS: [char; 5] = ['￥', '¥', '$', '＄', '€'];

/// An unguessable share code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShareCode(String);

impl ShareCode {
    /// Encodes 16 random bytes (from the caller's CSPRNG) as a code. Uses the top 71.45 bits,
    /// base62, so every code is exactly [`CODE_LEN`] characters.
    pub fn from_random(bytes: [u8; 16]) -> ShareCode {
        let mut n = u128::from_be_bytes(bytes);
        let mut code = String::with_capacity(CODE_LEN);
        for _ in 0..CODE_LEN {
            code.push(char::from(ALPHABET[(n % 62) as usize]));
            n /= 62;
        }
        ShareCode(code)
    }

    /// Checks a code from a URL or a form: exactly [`CODE_LEN`] ASCII letters and digits.
    pub fn parse(text: &str) -> Result<ShareCode, Error> {
        if is_code(text) { Ok(ShareCode(text.to_string())) } else { Err(Error::new(ErrorCode::NotFound, "no such share")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_code(text: &str) -> bool {
    text.len() == CODE_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The 口令 text for a share: `￥{code}￥ {title}`, the title cut to [`KOULING_TITLE_MAX`]
/// characters so the whole thing fits a chat line.
pub fn kouling(code: &ShareCode, title: &str) -> String {
    let title: String = title.trim().chars().filter(|c| !c.is_control()).take(KOULING_TITLE_MAX).collect();
    if title.is_empty() { format!("￥{}￥", code.as_str()) } else { format!("￥{}￥ {title}", code.as_str()) }
}

/// Every share code in `text`, in order of appearance, without repeats: codes between any two
/// [`DELIMITERS`] (spaces around the code allowed), and codes in short links (`/s/{code}`).
/// Text with no code gives an empty list; nothing here can fail.
pub fn extract_codes(text: &str) -> Vec<ShareCode> {
    let mut found: Vec<ShareCode> = Vec::new();
    let mut push = |candidate: &str| {
        if is_code(candidate) && !found.iter().any(|c| c.as_str() == candidate) {
            found.push(ShareCode(candidate.to_string()));
        }
    };
    let mut rest = text;
    while let Some(open) = rest.find(DELIMITERS) {
        let after_open = &rest[open..];
        let inner_start = open + after_open.chars().next().map_or(1, char::len_utf8);
        let inner = &rest[inner_start..];
        match inner.find(DELIMITERS) {
            Some(close) => {
                push(inner[..close].trim());
                // The closing symbol may open the next 口令, so resume at it.
                rest = &inner[close..];
            }
            None => break,
        }
    }
    for (index, _) in text.match_indices("/s/") {
        let tail = &text[index + 3..];
        let end = tail.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(tail.len());
        push(&tail[..end]);
    }
    found
}

/// Where a share was sent. Recorded for the sharer's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Link,
    Kouling,
    Qr,
    Poster,
    ParcelCard,
    Chat,
    Moments,
}

impl Channel {
    pub const ALL: [Channel; 7] =
        [Channel::Link, Channel::Kouling, Channel::Qr, Channel::Poster, Channel::ParcelCard, Channel::Chat, Channel::Moments];

    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Link => "link",
            Channel::Kouling => "kouling",
            Channel::Qr => "qr",
            Channel::Poster => "poster",
            Channel::ParcelCard => "parcel_card",
            Channel::Chat => "chat",
            Channel::Moments => "moments",
        }
    }

    pub fn parse(text: &str) -> Result<Channel, Error> {
        Channel::ALL.into_iter().find(|c| c.as_str() == text).ok_or_else(|| Error::invalid(format!("unknown share channel '{text}'")))
    }
}

/// How long a share visit binds a customer to a shop (客户关系绑定).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingPolicy {
    /// The first binding wins until it has lasted this long; then the next share visit rebinds.
    Protected { protection_ms: i64 },
    /// The first binding is kept for good.
    Permanent,
}

impl BindingPolicy {
    /// The platform default: 15 days of protection.
    pub const DEFAULT: BindingPolicy = BindingPolicy::Protected { protection_ms: 15 * crate::time::DAY_MS };

    /// Until when a binding made at `now` is protected; `None` for permanent.
    pub fn protected_until(self, now: crate::Timestamp) -> Option<crate::Timestamp> {
        match self {
            BindingPolicy::Protected { protection_ms } => Some(now.plus_ms(protection_ms)),
            BindingPolicy::Permanent => None,
        }
    }
}

/// A coarse device class from a User-Agent, all that share statistics keep of it.
pub fn device_class(user_agent: &str) -> &'static str {
    let ua = user_agent.to_ascii_lowercase();
    if ["bot", "spider", "crawler", "curl", "wget", "python-requests"].iter().any(|b| ua.contains(b)) {
        "bot"
    } else if ua.contains("ipad") || ua.contains("tablet") {
        "tablet"
    } else if ua.contains("mobile") || ua.contains("iphone") || ua.contains("android") || ua.contains("micromessenger") {
        "phone"
    } else if ua.contains("windows") || ua.contains("macintosh") || ua.contains("x11") {
        "desktop"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(seed: u8) -> ShareCode {
        ShareCode::from_random([seed; 16])
    }

    #[test]
    fn codes_are_twelve_base62_characters() {
        for seed in [0u8, 1, 7, 255] {
            let c = code(seed);
            assert_eq!(c.as_str().len(), CODE_LEN);
            assert!(ShareCode::parse(c.as_str()).is_ok());
        }
        assert_ne!(code(1), code(2));
        assert!(ShareCode::parse("short").is_err());
        assert!(ShareCode::parse("abcdefghijk!").is_err());
        assert!(ShareCode::parse("ａｂｃｄｅｆｇｈｉｊｋｌ").is_err(), "full-width letters are not a code");
    }

    #[test]
    fn kouling_round_trips_through_chat_text() {
        let c = code(9);
        let text = format!("【好物分享】{} 复制这段话打开分享购", kouling(&c, "赣南脐橙 5斤装 新鲜现摘"));
        assert_eq!(extract_codes(&text), vec![c.clone()]);
        let half_width = text.replace('￥', "¥");
        assert_eq!(extract_codes(&half_width), vec![c.clone()]);
        let mixed = format!("看看这个 ${}¥ 很好吃", c.as_str());
        assert_eq!(extract_codes(&mixed), vec![c.clone()]);
        let link = format!("点开 https://shop.example.com/s/{}?from=wx 就行", c.as_str());
        assert_eq!(extract_codes(&link), vec![c]);
    }

    #[test]
    fn device_classes() {
        assert_eq!(device_class("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) MicroMessenger/8.0"), "phone");
        assert_eq!(device_class("Mozilla/5.0 (iPad; CPU OS 17_0)"), "tablet");
        assert_eq!(device_class("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"), "desktop");
        assert_eq!(device_class("Googlebot/2.1"), "bot");
        assert_eq!(device_class(""), "other");
    }

    #[test]
    fn channels_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()).ok(), Some(c));
        }
        assert!(Channel::parse("fax").is_err());
    }

    #[test]
    fn no_code_no_match() {
        for text in ["", "￥", "￥￥", "价格 ￥99 起", "￥12.50￥", "$100$", "￥ABCDEFGHIJK￥", "/s/", "/s/abc"] {
            assert!(extract_codes(text).is_empty(), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn found_in_any_surrounding_text(
            bytes in any::<[u8; 16]>(),
            before in "\\PC{0,40}",
            after in "\\PC{0,40}",
            open in 0usize..5,
            close in 0usize..5,
            pad in " {0,2}",
        ) {
            let c = ShareCode::from_random(bytes);
            let text = format!("{before}{}{pad}{}{pad}{}{after}", DELIMITERS[open], c.as_str(), DELIMITERS[close]);
            prop_assert!(extract_codes(&text).contains(&c), "{}", text);
        }

        #[test]
        fn never_panics_and_only_returns_valid_codes(text in "\\PC{0,200}") {
            for c in extract_codes(&text) {
                prop_assert!(ShareCode::parse(c.as_str()).is_ok());
            }
        }
    }
}
