//! Shops (SPEC 3.2): free to open, one step, one per owner.

use crate::error::Error;

/// Checks a shop name (2–24 characters) and returns it trimmed.
pub fn check_shop_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    let count = name.chars().count();
    if !(2..=24).contains(&count) || name.chars().any(char::is_control) {
        return Err(Error::invalid("shop name must be 2 to 24 characters"));
    }
    Ok(name.to_string())
}

/// A stable hue (0–359) for a shop, from its id: a shop has no colour of its own, yet its logo,
/// its posters and its parcel cards should all wear the same one. FNV-1a, so every process and
/// every release agrees.
pub fn brand_hue(key: &str) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % 360) as u16
}

/// What the shop homepage must show about the owner's business registration
/// (E-commerce Law art. 10 and 76): the registration details when the owner has them,
/// otherwise the statutory statement that none is needed.
pub fn registration_statement(registration: Option<&str>) -> RegistrationStatement<'_> {
    match registration.map(str::trim).filter(|r| !r.is_empty()) {
        Some(details) => RegistrationStatement::Registered(details),
        None => RegistrationStatement::ExemptIndividual,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStatement<'a> {
    Registered(&'a str),
    /// An individual selling their own goods or low-value convenience services, for whom the law
    /// does not require market-entity registration.
    ExemptIndividual,
}
