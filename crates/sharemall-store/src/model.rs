//! Read models the store returns. They are also the API's output shapes: each lists exactly
//! the fields meant for clients (no password hashes, no internal counters).

use serde::{Deserialize, Serialize};
use sharemall_domain::account::Role;
use sharemall_domain::{
    BargainCampaignId, BargainId, CampaignId, GroupId, OrderId, PaymentId, ProductId, ShopId, SkuId, SupplierId, UserId,
};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A browser session behind a cookie.
    Cookie,
    /// An API client's bearer token.
    Bearer,
}

impl SessionKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::Bearer => "bearer",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionUser {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub display_name: String,
    pub login: String,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    #[schema(value_type = Option<String>)]
    pub shop_id: Option<ShopId>,
    #[schema(value_type = Option<String>)]
    pub supplier_id: Option<SupplierId>,
}

impl SessionUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Supplier {
    #[schema(value_type = String)]
    pub id: SupplierId,
    pub name: String,
    pub contact: String,
    pub approval: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sku {
    #[schema(value_type = String)]
    pub id: SkuId,
    pub attributes: String,
    pub retail_fen: i64,
    /// Only shown to the supplier and the operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supply_fen: Option<i64>,
    pub commission_bps: i64,
    pub returnable: bool,
    pub stock_available: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    #[schema(value_type = String)]
    pub id: ProductId,
    #[schema(value_type = String)]
    pub supplier_id: SupplierId,
    pub supplier_name: String,
    pub title: String,
    pub description: String,
    pub category: String,
    /// Hue (0–359) of the generated product image.
    pub image_hue: i64,
    pub approval: String,
    /// Lowest retail price among the SKUs.
    pub price_from_fen: i64,
    pub skus: Vec<Sku>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shop {
    #[schema(value_type = String)]
    pub id: ShopId,
    #[schema(value_type = String)]
    pub owner_id: UserId,
    pub name: String,
    pub intro: String,
    pub registration: Option<String>,
    pub opened_at: i64,
}

/// A group-buy campaign (拼团活动) as clients see it. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GroupCampaign {
    #[schema(value_type = String)]
    pub id: CampaignId,
    /// Absent: a platform campaign, open in every shop carrying the product.
    #[schema(value_type = Option<String>)]
    pub shop_id: Option<ShopId>,
    #[schema(value_type = String)]
    pub sku_id: SkuId,
    #[schema(value_type = String)]
    pub product_id: ProductId,
    /// Members a group needs to succeed (2–100).
    pub size: i64,
    pub group_price_fen: i64,
    /// How long a group stays open (1–72).
    pub group_hours: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    /// Units the campaign may sell in all, and how many its groups have taken so far.
    pub stock_cap: i64,
    pub stock_used: i64,
    pub per_customer_limit: i64,
    /// 老带新: only customers who have never paid for an order may join.
    pub new_customers_only: bool,
    /// Paid members at which an expiring group still succeeds; absent: off.
    pub auto_complete_at: Option<i64>,
    pub created_at: i64,
    /// Set when the campaign was ended before its window closed.
    pub ended_at: Option<i64>,
}

/// One group (团) as its page shows it. `status` is `open`, `expired` (open past its deadline,
/// not yet settled), `succeeded`, `platform_completed` or `failed`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupDetail {
    #[schema(value_type = String)]
    pub id: GroupId,
    #[schema(value_type = String)]
    pub campaign_id: CampaignId,
    #[schema(value_type = String)]
    pub shop_id: ShopId,
    pub shop_name: String,
    #[schema(value_type = String)]
    pub product_id: ProductId,
    #[schema(value_type = String)]
    pub sku_id: SkuId,
    pub title: String,
    pub size: i64,
    pub paid: i64,
    /// Seats held by joiners who have not paid yet.
    pub held: i64,
    pub seats_left: i64,
    pub status: String,
    pub opened_at: i64,
    pub expires_at: i64,
    pub settled_at: Option<i64>,
    pub group_price_fen: i64,
    pub retail_fen: i64,
    pub group_hours: i64,
    /// Paid members only, by payment time; names masked. Never padded with invented members.
    pub members: Vec<GroupMemberView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupMemberView {
    /// The member's name as other customers see it (first character and a mask).
    pub name: String,
    pub leader: bool,
    pub paid_at: i64,
}

/// A joinable group in a list (the product page's 凑团).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupSummary {
    #[schema(value_type = String)]
    pub id: GroupId,
    #[schema(value_type = String)]
    pub campaign_id: CampaignId,
    pub leader_name: String,
    pub size: i64,
    pub paid: i64,
    pub seats_left: i64,
    pub expires_at: i64,
}

/// One of a customer's group orders. `group_id` is absent until an opener pays.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyGroup {
    #[schema(value_type = String)]
    pub order_id: OrderId,
    pub group_id: Option<String>,
    /// `held`, `paid`, `cancelled` or `refunded`.
    pub membership: String,
    pub leader: bool,
    pub title: String,
    pub group_price_fen: i64,
    pub size: Option<i64>,
    pub paid: Option<i64>,
    pub group_status: Option<String>,
    pub expires_at: Option<i64>,
    pub order_status: String,
}

/// How a campaign's groups have done.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignResults {
    pub open: i64,
    /// Past their deadline, waiting for the sweeper (they read as expired already).
    pub expired_unsettled: i64,
    pub succeeded: i64,
    pub platform_completed: i64,
    pub failed: i64,
    /// Settled groups that succeeded, in basis points (10,000 = all).
    pub success_rate_bps: i64,
    pub refunds: i64,
    pub refunded_fen: i64,
}

/// A bargain campaign (砍价活动) as clients see it. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BargainCampaign {
    #[schema(value_type = String)]
    pub id: BargainCampaignId,
    /// Absent: a platform campaign, open in every shop carrying the product.
    #[schema(value_type = Option<String>)]
    pub shop_id: Option<ShopId>,
    #[schema(value_type = String)]
    pub sku_id: SkuId,
    #[schema(value_type = String)]
    pub product_id: ProductId,
    /// The price a bargain starts at (at most the retail price).
    pub start_fen: i64,
    /// The price K helps reach (at least the supply price).
    pub floor_fen: i64,
    /// Helps K that take a bargain from the start to the floor (1–100).
    pub helpers_needed: i64,
    /// How long a bargain runs once started (1–72).
    pub bargain_hours: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    /// Units the campaign may sell in all, and how many bought bargains have taken so far.
    pub stock_cap: i64,
    pub stock_used: i64,
    /// `current_price`: the starter buys at the price reached so far; `floor_only`: only at the floor.
    pub buy_rule: String,
    pub created_at: i64,
    /// Set when the campaign was ended before its window closed.
    pub ended_at: Option<i64>,
}

/// How a bargain campaign's bargains have done, for its console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BargainCampaignResults {
    pub started: i64,
    /// Bargains whose K helps are all in (bought or not).
    pub reached_floor: i64,
    /// Bargains with an order (paid, or awaiting payment).
    pub bought: i64,
    /// Bargains past their deadline without an order.
    pub expired: i64,
}

/// One bargain (砍价) as its page shows it. The cut sequence and the next cut are never shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BargainView {
    #[schema(value_type = String)]
    pub id: BargainId,
    #[schema(value_type = String)]
    pub campaign_id: BargainCampaignId,
    #[schema(value_type = String)]
    pub shop_id: ShopId,
    pub shop_name: String,
    #[schema(value_type = String)]
    pub product_id: ProductId,
    #[schema(value_type = String)]
    pub sku_id: SkuId,
    pub title: String,
    /// The starter's name as others see it (first character and a mask).
    pub starter_name: String,
    pub retail_fen: i64,
    pub start_fen: i64,
    pub floor_fen: i64,
    /// The price now: what the starter pays if they buy now.
    pub current_fen: i64,
    pub helps: i64,
    pub helpers_needed: i64,
    /// `running`, `expired` (including a running bargain past its deadline) or `bought`.
    pub status: String,
    /// `current_price` or `floor_only`.
    pub buy_rule: String,
    /// Whether the starter may buy now.
    pub can_buy: bool,
    pub started_at: i64,
    pub expires_at: i64,
    /// Whole seconds until expiry; 0 once expired or bought.
    pub seconds_left: i64,
    /// Whether the caller started this bargain.
    pub mine: bool,
    /// The order of a bought bargain, shown to its starter only.
    #[schema(value_type = Option<String>)]
    pub order_id: Option<OrderId>,
    /// The helps so far, in order; names masked.
    pub helpers: Vec<BargainHelper>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BargainHelper {
    pub seq: i64,
    /// The helper's name as others see it (first character and a mask).
    pub name: String,
    pub cut_fen: i64,
    pub helped_at: i64,
}

/// What one help did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HelpDone {
    /// Which help this was (1..K).
    pub seq: i64,
    pub cut_fen: i64,
    pub current_fen: i64,
    pub helps: i64,
    pub helpers_needed: i64,
}

/// A started bargain: `started` is false when the customer's running bargain in the campaign
/// (or their bought one awaiting payment) is returned instead of a new one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BargainStarted {
    #[schema(value_type = String)]
    pub id: BargainId,
    pub started: bool,
}

/// A message in a user's inbox. `kind` names the words; `params` fills them in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxMessage {
    pub id: i64,
    /// e.g. `group_succeeded`, `group_failed`, `group_platform_completed`.
    pub kind: String,
    /// What the message is about (a group id, …).
    pub subject: String,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderItem {
    pub line_no: i64,
    #[schema(value_type = String)]
    pub sku_id: SkuId,
    #[schema(value_type = String)]
    pub product_id: ProductId,
    #[schema(value_type = String)]
    pub supplier_id: SupplierId,
    pub title: String,
    pub attributes: String,
    pub unit_fen: i64,
    pub quantity: i64,
    pub goods_fen: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shipment {
    #[schema(value_type = String)]
    pub supplier_id: SupplierId,
    pub carrier: String,
    pub tracking_no: String,
    pub shipped_at: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Order {
    #[schema(value_type = String)]
    pub id: OrderId,
    pub order_no: String,
    #[schema(value_type = String)]
    pub shop_id: ShopId,
    pub shop_name: String,
    #[schema(value_type = String)]
    pub customer_id: UserId,
    pub status: String,
    pub base_fen: i64,
    pub activity_discount_fen: i64,
    pub member_discount_fen: i64,
    pub coupon_discount_fen: i64,
    pub goods_fen: i64,
    pub shipping_fen: i64,
    pub payable_fen: i64,
    pub paid_fen: i64,
    pub refunded_fen: i64,
    pub recipient: String,
    pub phone: String,
    pub address: String,
    pub note: String,
    pub created_at: i64,
    pub pay_deadline_at: i64,
    pub paid_at: Option<i64>,
    pub shipped_at: Option<i64>,
    pub received_at: Option<i64>,
    pub completes_at: Option<i64>,
    /// The shop the customer was bound to when ordering; commission follows it.
    #[schema(value_type = Option<String>)]
    pub bound_shop_id: Option<ShopId>,
    /// The share that last led the customer to this shop (last touch).
    pub share_code: Option<String>,
    /// The buyer is that share's sharer or the earning shop's owner: no commission.
    pub self_referral: bool,
    pub items: Vec<OrderItem>,
    pub shipments: Vec<Shipment>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderPlaced {
    #[schema(value_type = String)]
    pub order_id: OrderId,
    pub order_no: String,
    pub status: String,
    pub payable_fen: i64,
    pub pay_deadline_at: i64,
}

impl OrderPlaced {
    /// The answer to a newly placed order, waiting for payment.
    pub fn created(order_id: OrderId, order_no: &str, payable_fen: i64, pay_deadline_at: sharemall_domain::Timestamp) -> OrderPlaced {
        OrderPlaced {
            order_id,
            order_no: order_no.to_string(),
            status: sharemall_domain::order::OrderStatus::Created.as_str().into(),
            payable_fen,
            pay_deadline_at: pay_deadline_at.millis(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    #[schema(value_type = String)]
    pub id: PaymentId,
    #[schema(value_type = String)]
    pub order_id: OrderId,
    pub provider: String,
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CartLine {
    #[schema(value_type = String)]
    pub sku_id: SkuId,
    #[schema(value_type = String)]
    pub product_id: ProductId,
    pub title: String,
    pub attributes: String,
    pub unit_fen: i64,
    pub quantity: i64,
    pub image_hue: i64,
}

/// One page of a list, with the cursor-free paging the consoles use.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
}
