//! Accounts: who can sign in, and with which roles.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};

/// A sign-in identifier: a mainland mobile number or an e-mail address, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginId(String);

impl LoginId {
    /// Accepts `13812345678`, `+86 138-1234-5678` or `Name@Example.com` (lower-cased).
    pub fn parse(raw: &str) -> Result<LoginId, Error> {
        let trimmed = raw.trim();
        let invalid = || Error::new(ErrorCode::InvalidPhoneOrEmail, "enter a mobile number (11 digits) or an e-mail address");
        if trimmed.len() > 254 {
            return Err(invalid());
        }
        if trimmed.contains('@') {
            let lower = trimmed.to_lowercase();
            let (local, domain) = lower.split_once('@').ok_or_else(invalid)?;
            let domain_ok = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
            if local.is_empty() || !domain_ok || lower.chars().any(char::is_whitespace) || domain.contains('@') {
                return Err(invalid());
            }
            return Ok(LoginId(lower));
        }
        let digits: String = trimmed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits.strip_prefix("+86").unwrap_or(&digits);
        let is_mobile = digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit());
        if !is_mobile {
            return Err(invalid());
        }
        Ok(LoginId(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_phone(&self) -> bool {
        !self.0.contains('@')
    }
}

/// Password rules, checked before hashing: long enough to resist guessing, short enough to bound
/// the hashing cost of a hostile request.
pub fn check_password(password: &str) -> Result<(), Error> {
    let chars = password.chars().count();
    if !(8..=128).contains(&chars) {
        return Err(Error::new(ErrorCode::WeakPassword, "password must be 8 to 128 characters"));
    }
    Ok(())
}

/// What a user may do. One user may hold several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Supplier,
    ShopOwner,
    Customer,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supplier => "supplier",
            Role::ShopOwner => "shop_owner",
            Role::Customer => "customer",
        }
    }

    pub fn parse(text: &str) -> Result<Role, Error> {
        match text {
            "operator" => Ok(Role::Operator),
            "supplier" => Ok(Role::Supplier),
            "shop_owner" => Ok(Role::ShopOwner),
            "customer" => Ok(Role::Customer),
            other => Err(Error::invalid(format!("unknown role '{other}'"))),
        }
    }
}

/// A display name: 1–32 characters, no control characters.
pub fn check_display_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > 32 || name.chars().any(char::is_control) {
        return Err(Error::invalid("name must be 1 to 32 characters"));
    }
    Ok(name.to_string())
}

/// How a person's name shows to other customers (a group's members, a bargain's helpers): the
/// first character and a mask, so friends recognise each other and strangers learn nothing.
pub fn public_name(display_name: &str) -> String {
    match display_name.trim().chars().next() {
        Some(first) => format!("{first}**"),
        None => "**".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids_normalise() {
        assert_eq!(LoginId::parse("+86 138-1234-5678").map(|l| l.0).ok(), Some("13812345678".into()));
        assert_eq!(LoginId::parse(" Li@Example.COM ").map(|l| l.0).ok(), Some("li@example.com".into()));
        for bad in ["12345", "23812345678", "a@b", "@x.cn", "x@.cn", "li @x.cn", ""] {
            assert!(LoginId::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn password_bounds() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn public_names_show_only_the_first_character() {
        assert_eq!(public_name("张小明"), "张**");
        assert_eq!(public_name("  Alice"), "A**");
        assert_eq!(public_name(""), "**");
    }
}
