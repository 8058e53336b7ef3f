//! What the order forms share: the delivery fields every one of them posts; and for the one-unit
//! activity forms (a group's and a bargain's), the shipping and total shown for one unit at the
//! activity price, the phone to prefill, and the delivery card (`delivery_card.html`). The order itself is priced by the server when it is placed, and its
//! page shows the amount before paying.

use serde::Deserialize;
use sharemall_app::orders::Delivery;
use sharemall_domain::pricing::{self, Adjustments, LineInput};
use sharemall_domain::{Error, Money, SkuId};
use sharemall_store::model::SessionUser;

use super::yuan;
use crate::AppState;

/// Shipping and payable for one unit at an activity price, as the form shows them.
pub struct OneUnit {
    pub shipping: String,
    pub free_shipping: bool,
    pub free_over: String,
    pub payable: String,
}

impl OneUnit {
    pub fn priced(state: &AppState, sku: SkuId, unit_fen: i64) -> Result<OneUnit, Error> {
        let shipping = state.app.config.shipping;
        let line = LineInput { sku_id: sku, quantity: 1, unit_price: Money::from_fen(unit_fen) };
        let price = pricing::price(&[line], &Adjustments { shipping, ..Adjustments::NONE })?;
        Ok(OneUnit {
            shipping: yuan(price.shipping_fen),
            free_shipping: price.shipping_fen == 0,
            free_over: yuan(shipping.free_at_or_above.fen()),
            payable: yuan(price.payable_fen),
        })
    }
}

/// The phone to prefill: the login when it is a phone number.
pub fn phone_of(user: &SessionUser) -> String {
    if user.login.contains('@') { String::new() } else { user.login.clone() }
}

/// Who receives the parcel, where, and a note: the fields every order form posts (flattened
/// into each form).
#[derive(Deserialize)]
pub struct DeliveryFields {
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub note: String,
}

impl DeliveryFields {
    /// The fields, trimmed, one per line: their part of what a form's idempotency key is bound to.
    pub fn fingerprint(&self) -> String {
        format!("{}\n{}\n{}\n{}", self.recipient.trim(), self.phone.trim(), self.address.trim(), self.note.trim())
    }

    pub fn into_delivery(self) -> Delivery {
        Delivery { recipient: self.recipient, phone: self.phone, address: self.address, note: self.note }
    }
}
