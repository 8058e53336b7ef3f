//! Typed ids. Internal keys are UUID v7 (time-ordered, good for indexes); they are never used as
//! unguessable tokens: anything that must be secret in a URL uses a separate random token.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id. The id generator is the only randomness callers need not inject:
            /// ids carry no business meaning.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(v: Uuid) -> Self {
                Self(v)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

typed_id!(
    /// A person with an account; may hold several roles.
    UserId,
    /// A supplier (供应商) organisation.
    SupplierId,
    /// A catalogue product.
    ProductId,
    /// A sellable variant of a product (colour, size…), with its own stock pool.
    SkuId,
    /// A shop owner's (小B) shop.
    ShopId,
    /// A customer order.
    OrderId,
    /// One payment attempt of an order with a provider.
    PaymentId,
    /// One refund of a payment.
    RefundId,
    /// A background job row.
    JobId,
    /// A group-buy campaign (拼团活动) on one SKU.
    CampaignId,
    /// One group (团) opened in a group-buy campaign.
    GroupId,
    /// A bargain campaign (砍价活动) on one SKU.
    BargainCampaignId,
    /// One customer's bargain (砍价) in a bargain campaign.
    BargainId,
    /// A shop owner's request to withdraw available commission.
    WithdrawalId,
    /// An after-sales case (售后): a return or a refund a customer asked for.
    AfterSaleId,
);
