//! The pages' words in Chinese (zh-CN, the default) and English.
//!
//! Every string is a field of [`Strings`]; [`ZH`] and [`EN`] are two values of that struct, so
//! the compiler refuses a key that one locale lacks. Templates read `{{ t.buy_now }}`.

use sharemall_domain::ErrorCode;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// `zh` / `en`, as used in `/lang/{code}`, `?lang=` and the `lang` cookie.
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh_cn" | "cn" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    pub const fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub const fn strings(self) -> &'static Strings {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

macro_rules! strings {
    ($($name:ident),* $(,)?) => {
        /// One field per visible string.
        #[derive(Debug)]
        pub struct Strings {
            $(pub $name: &'static str,)*
        }

        impl Strings {
            /// Every key with its text, for tests and tooling.
            pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($name), self.$name),)*]
            }
        }
    };
}

strings! {
    html_lang, brand, brand_short, switch_to_code, switch_to_label,
    tab_home, tab_cart, tab_orders, tab_me,
    sign_in, register, sign_out, hello,
    home_hero_title, home_hero_text, home_shops, home_catalogue, no_shops, visit_shop, open_shop_cta,
    signin_title, register_title, login_label, login_placeholder, password_label, password_hint, display_name_label,
    no_account, have_account,
    shop_products, shop_no_products, shop_registration,
    returnable_badge, not_returnable, choose_sku, stock_left, sold_out, quantity, buy_now, add_to_cart,
    product_details, supplier_label, price_from,
    cart_title, cart_empty, update, remove, go_checkout, continue_shopping,
    checkout_title, delivery_info, recipient, phone, address, note, note_placeholder,
    goods_amount, base_amount, discount, shipping_fee, free_shipping, free_over_prefix, free_over_suffix, payable, place_order,
    price_note,
    my_orders, no_orders, order_no, order_detail, placed_at, pay_before, pay_now, confirm_receipt, cancel_order,
    shipments, carrier, tracking_no, deliver_to, shop_label, paid_amount, refunded_amount, items_label, view_order,
    status_created, status_to_ship, status_shipped, status_received, status_completed, status_cancelled, status_refunding, status_refunded,
    sandbox_title, sandbox_notice, sandbox_payee, amount, description, confirm_pay, already_paid, back_to_merchant, sandbox_footer,
    me_title, shop_console, supplier_console, operator_console, my_account,
    open_shop_title, open_shop_free, shop_name, shop_intro, registration_label, registration_hint, open_shop_button,
    view_my_shop, shop_orders, pick_products, pick, unpick, picked, commission, search, search_placeholder, back_to_console,
    apply_supplier_title, apply_supplier_text, supplier_name, contact, apply, supplier_pending_note,
    my_products, approval_pending, approval_approved, approval_rejected, restock, restock_add,
    new_product, title_label, category_label, attributes_label, attributes_hint, supply_price, retail_price, commission_bps,
    stock_label, returnable_label, submit, orders_to_ship, ship, nothing_to_ship, no_products_yet,
    csv_import, csv_hint, import, import_done, import_errors, import_nothing, line, column, message,
    pending_suppliers, pending_products, approve, reject, recent_orders, nothing_pending,
    error_title, go_back, home_link, sign_in_needed,
    err_bad_credentials, err_account_exists, err_invalid_login, err_weak_password, err_out_of_stock, err_not_found,
    err_forbidden, err_invalid_input, err_too_many, err_order_state, err_empty_cart, err_shop_open, err_no_shop,
    err_session, err_internal,
}

pub const ZH: Strings = Strings {
    html_lang: "zh-CN",
    brand: "sharemall 分享购",
    brand_short: "分享购",
    switch_to_code: "en",
    switch_to_label: "English",
    tab_home: "首页",
    tab_cart: "购物车",
    tab_orders: "订单",
    tab_me: "我的",
    sign_in: "登录",
    register: "注册",
    sign_out: "退出登录",
    hello: "你好",
    home_hero_title: "好物分享，开店免费",
    home_hero_text: "供应商供货、平台审核品质，人人都能一键开一家自己的小店。",
    home_shops: "精选好店",
    home_catalogue: "全部好物",
    no_shops: "还没有店铺，来开第一家吧。",
    visit_shop: "进店逛逛",
    open_shop_cta: "免费开店",
    signin_title: "登录分享购",
    register_title: "注册新账号",
    login_label: "手机号或邮箱",
    login_placeholder: "例如 13800138000",
    password_label: "密码",
    password_hint: "至少 8 位",
    display_name_label: "昵称",
    no_account: "还没有账号？",
    have_account: "已有账号？",
    shop_products: "店铺商品",
    shop_no_products: "店主正在精心挑选商品，敬请期待。",
    shop_registration: "经营者信息",
    returnable_badge: "7天无理由退货",
    not_returnable: "不支持7天无理由退货",
    choose_sku: "选择规格",
    stock_left: "库存",
    sold_out: "已售罄",
    quantity: "数量",
    buy_now: "立即购买",
    add_to_cart: "加入购物车",
    product_details: "商品详情",
    supplier_label: "供货商",
    price_from: "起",
    cart_title: "购物车",
    cart_empty: "购物车还是空的，去逛逛吧。",
    update: "更新",
    remove: "删除",
    go_checkout: "去结算",
    continue_shopping: "继续逛逛",
    checkout_title: "确认订单",
    delivery_info: "收货信息",
    recipient: "收货人",
    phone: "手机号码",
    address: "详细地址",
    note: "订单备注",
    note_placeholder: "选填，给商家留言",
    goods_amount: "商品金额",
    base_amount: "商品原价",
    discount: "优惠",
    shipping_fee: "运费",
    free_shipping: "包邮",
    free_over_prefix: "满 ¥",
    free_over_suffix: " 包邮",
    payable: "应付金额",
    place_order: "提交订单",
    price_note: "价格由平台计算，提交后请在 15 分钟内完成支付。",
    my_orders: "我的订单",
    no_orders: "还没有订单。",
    order_no: "订单号",
    order_detail: "订单详情",
    placed_at: "下单时间",
    pay_before: "请在此时间前完成支付",
    pay_now: "去支付",
    confirm_receipt: "确认收货",
    cancel_order: "取消订单",
    shipments: "物流信息",
    carrier: "快递公司",
    tracking_no: "运单号",
    deliver_to: "收货信息",
    shop_label: "店铺",
    paid_amount: "实付金额",
    refunded_amount: "已退款",
    items_label: "商品",
    view_order: "查看订单",
    status_created: "待付款",
    status_to_ship: "待发货",
    status_shipped: "已发货",
    status_received: "已收货",
    status_completed: "已完成",
    status_cancelled: "已取消",
    status_refunding: "退款中",
    status_refunded: "已退款",
    sandbox_title: "沙箱支付",
    sandbox_notice: "这是开发测试用的沙箱支付，不会扣除任何真实资金。",
    sandbox_payee: "收款商户",
    amount: "金额",
    description: "说明",
    confirm_pay: "确认支付",
    already_paid: "这笔交易已经支付成功。",
    back_to_merchant: "返回商户",
    sandbox_footer: "沙箱支付服务 · 仅供测试",
    me_title: "我的",
    shop_console: "我的店铺",
    supplier_console: "供应商后台",
    operator_console: "运营后台",
    my_account: "账号",
    open_shop_title: "开一家自己的小店",
    open_shop_free: "开店免费，一步完成，不收取任何费用，也无需购买任何商品。",
    shop_name: "店铺名称",
    shop_intro: "店铺简介",
    registration_label: "营业执照信息（选填）",
    registration_hint: "个人零星小额交易可不填，店铺首页会展示法定的免登记声明。",
    open_shop_button: "免费开店",
    view_my_shop: "查看我的店铺",
    shop_orders: "店铺订单",
    pick_products: "选品上架",
    pick: "上架",
    unpick: "下架",
    picked: "已上架",
    commission: "佣金",
    search: "搜索",
    search_placeholder: "搜索商品",
    back_to_console: "返回后台",
    apply_supplier_title: "成为供应商",
    apply_supplier_text: "提交资料后，平台运营审核通过即可发布商品。",
    supplier_name: "供应商名称",
    contact: "联系方式",
    apply: "提交申请",
    supplier_pending_note: "商品需经平台审核通过后才会出现在选品库中。",
    my_products: "我的商品",
    approval_pending: "待审核",
    approval_approved: "已通过",
    approval_rejected: "已驳回",
    restock: "补货",
    restock_add: "增加库存",
    new_product: "发布新商品",
    title_label: "商品标题",
    category_label: "类目",
    attributes_label: "规格",
    attributes_hint: "例如 颜色:红色; 尺码:XL",
    supply_price: "供货价（元）",
    retail_price: "零售价（元）",
    commission_bps: "佣金比例（基点，1000 = 10%）",
    stock_label: "库存",
    returnable_label: "支持7天无理由退货",
    submit: "提交",
    orders_to_ship: "待发货订单",
    ship: "发货",
    nothing_to_ship: "暂无待发货订单。",
    no_products_yet: "还没有商品。",
    csv_import: "CSV 批量导入",
    csv_hint: "粘贴 CSV 内容（第一行为表头）。只要有一行有误，就不会导入任何商品。",
    import: "导入",
    import_done: "导入成功的商品数",
    import_errors: "以下行有问题，请修改后重新导入",
    import_nothing: "没有找到可导入的商品。",
    line: "行",
    column: "列",
    message: "说明",
    pending_suppliers: "待审核供应商",
    pending_products: "待审核商品",
    approve: "通过",
    reject: "驳回",
    recent_orders: "最近订单",
    nothing_pending: "暂无待办事项。",
    error_title: "出错了",
    go_back: "返回上一页",
    home_link: "回到首页",
    sign_in_needed: "请先登录",
    err_bad_credentials: "账号或密码不正确。",
    err_account_exists: "该账号已注册，请直接登录。",
    err_invalid_login: "请输入 11 位手机号或有效的邮箱地址。",
    err_weak_password: "密码长度需要在 8 到 128 位之间。",
    err_out_of_stock: "库存不足，请减少数量或选择其他规格。",
    err_not_found: "找不到你要的内容。",
    err_forbidden: "你没有权限进行此操作。",
    err_invalid_input: "填写的内容有误，请检查后重试。",
    err_too_many: "尝试次数过多，请稍后再试。",
    err_order_state: "订单当前状态不支持此操作。",
    err_empty_cart: "购物车是空的。",
    err_shop_open: "你已经开过店了。",
    err_no_shop: "请先免费开店。",
    err_session: "登录已过期，请重新登录。",
    err_internal: "服务器开小差了，请稍后再试。",
};

pub const EN: Strings = Strings {
    html_lang: "en",
    brand: "sharemall",
    brand_short: "sharemall",
    switch_to_code: "zh",
    switch_to_label: "中文",
    tab_home: "Home",
    tab_cart: "Cart",
    tab_orders: "Orders",
    tab_me: "Me",
    sign_in: "Sign in",
    register: "Register",
    sign_out: "Sign out",
    hello: "Hello",
    home_hero_title: "Share great finds. Open a shop for free.",
    home_hero_text: "Suppliers stock it, the platform checks quality, and anyone can open their own shop in one step.",
    home_shops: "Featured shops",
    home_catalogue: "Catalogue",
    no_shops: "No shops yet. Open the first one.",
    visit_shop: "Visit shop",
    open_shop_cta: "Open a shop free",
    signin_title: "Sign in to sharemall",
    register_title: "Create an account",
    login_label: "Mobile number or e-mail",
    login_placeholder: "e.g. 13800138000",
    password_label: "Password",
    password_hint: "At least 8 characters",
    display_name_label: "Nickname",
    no_account: "No account yet?",
    have_account: "Already have an account?",
    shop_products: "Products",
    shop_no_products: "The owner is still picking products. Check back soon.",
    shop_registration: "Business information",
    returnable_badge: "7-day no-reason returns",
    not_returnable: "No 7-day no-reason returns",
    choose_sku: "Choose an option",
    stock_left: "In stock",
    sold_out: "Sold out",
    quantity: "Quantity",
    buy_now: "Buy now",
    add_to_cart: "Add to cart",
    product_details: "Details",
    supplier_label: "Supplier",
    price_from: "from",
    cart_title: "Cart",
    cart_empty: "Your cart is empty.",
    update: "Update",
    remove: "Remove",
    go_checkout: "Check out",
    continue_shopping: "Keep shopping",
    checkout_title: "Confirm order",
    delivery_info: "Delivery",
    recipient: "Recipient",
    phone: "Phone",
    address: "Address",
    note: "Note",
    note_placeholder: "Optional message to the seller",
    goods_amount: "Goods",
    base_amount: "List price",
    discount: "Discount",
    shipping_fee: "Shipping",
    free_shipping: "Free",
    free_over_prefix: "Free shipping over ¥",
    free_over_suffix: "",
    payable: "To pay",
    place_order: "Place order",
    price_note: "Prices are calculated by the platform. Please pay within 15 minutes of ordering.",
    my_orders: "My orders",
    no_orders: "No orders yet.",
    order_no: "Order no.",
    order_detail: "Order details",
    placed_at: "Placed at",
    pay_before: "Pay before",
    pay_now: "Pay now",
    confirm_receipt: "Confirm receipt",
    cancel_order: "Cancel order",
    shipments: "Shipments",
    carrier: "Carrier",
    tracking_no: "Tracking no.",
    deliver_to: "Deliver to",
    shop_label: "Shop",
    paid_amount: "Paid",
    refunded_amount: "Refunded",
    items_label: "Items",
    view_order: "View order",
    status_created: "Awaiting payment",
    status_to_ship: "To ship",
    status_shipped: "Shipped",
    status_received: "Received",
    status_completed: "Completed",
    status_cancelled: "Cancelled",
    status_refunding: "Refunding",
    status_refunded: "Refunded",
    sandbox_title: "Sandbox payment",
    sandbox_notice: "This is a sandbox for development and demos: no real money moves.",
    sandbox_payee: "Payee",
    amount: "Amount",
    description: "Description",
    confirm_pay: "Confirm payment",
    already_paid: "This transaction has been paid.",
    back_to_merchant: "Return to merchant",
    sandbox_footer: "Sandbox payment service · testing only",
    me_title: "Me",
    shop_console: "My shop",
    supplier_console: "Supplier console",
    operator_console: "Operator console",
    my_account: "Account",
    open_shop_title: "Open your own shop",
    open_shop_free: "Opening a shop is free and takes one step. No fees, and nothing to buy.",
    shop_name: "Shop name",
    shop_intro: "Introduction",
    registration_label: "Business registration (optional)",
    registration_hint: "Individuals making occasional small sales may leave this empty; the shop page then shows the statutory exemption statement.",
    open_shop_button: "Open shop for free",
    view_my_shop: "View my shop",
    shop_orders: "Shop orders",
    pick_products: "Pick products",
    pick: "Add to shop",
    unpick: "Remove",
    picked: "In shop",
    commission: "Commission",
    search: "Search",
    search_placeholder: "Search products",
    back_to_console: "Back to console",
    apply_supplier_title: "Become a supplier",
    apply_supplier_text: "Apply below; once an operator approves you, you can list products.",
    supplier_name: "Supplier name",
    contact: "Contact",
    apply: "Apply",
    supplier_pending_note: "Products appear in the shop catalogue after an operator approves them.",
    my_products: "My products",
    approval_pending: "Pending review",
    approval_approved: "Approved",
    approval_rejected: "Rejected",
    restock: "Restock",
    restock_add: "Add stock",
    new_product: "New product",
    title_label: "Title",
    category_label: "Category",
    attributes_label: "Attributes",
    attributes_hint: "e.g. 颜色:红色; 尺码:XL",
    supply_price: "Supply price (¥)",
    retail_price: "Retail price (¥)",
    commission_bps: "Commission (basis points, 1000 = 10%)",
    stock_label: "Stock",
    returnable_label: "7-day no-reason returns apply",
    submit: "Submit",
    orders_to_ship: "Orders to ship",
    ship: "Ship",
    nothing_to_ship: "Nothing to ship.",
    no_products_yet: "No products yet.",
    csv_import: "CSV import",
    csv_hint: "Paste CSV content (the first row is the header). Nothing is imported if any row has a problem.",
    import: "Import",
    import_done: "Products imported",
    import_errors: "These rows have problems; fix them and import again",
    import_nothing: "No products found to import.",
    line: "Line",
    column: "Column",
    message: "Problem",
    pending_suppliers: "Suppliers awaiting review",
    pending_products: "Products awaiting review",
    approve: "Approve",
    reject: "Reject",
    recent_orders: "Recent orders",
    nothing_pending: "Nothing pending.",
    error_title: "Something went wrong",
    go_back: "Go back",
    home_link: "Home",
    sign_in_needed: "Please sign in first",
    err_bad_credentials: "Wrong account or password.",
    err_account_exists: "This account already exists; please sign in.",
    err_invalid_login: "Enter an 11-digit mobile number or a valid e-mail address.",
    err_weak_password: "The password must be 8 to 128 characters.",
    err_out_of_stock: "Not enough stock; lower the quantity or choose another option.",
    err_not_found: "We couldn't find that.",
    err_forbidden: "You don't have access to this.",
    err_invalid_input: "Something in the form isn't right; please check and try again.",
    err_too_many: "Too many attempts; please try again later.",
    err_order_state: "This order can't do that in its current state.",
    err_empty_cart: "Your cart is empty.",
    err_shop_open: "You already have a shop.",
    err_no_shop: "Open your free shop first.",
    err_session: "Your session has expired; please sign in again.",
    err_internal: "Something went wrong on our side; please try again.",
};

impl Strings {
    /// The label of an order status (`created`, `to_ship`, ...).
    pub fn status(&self, status: &str) -> &'static str {
        match status {
            "created" => self.status_created,
            "to_ship" => self.status_to_ship,
            "shipped" => self.status_shipped,
            "received" => self.status_received,
            "completed" => self.status_completed,
            "cancelled" => self.status_cancelled,
            "refunding" => self.status_refunding,
            "refunded" => self.status_refunded,
            _ => self.status_created,
        }
    }

    /// The label of an approval state.
    pub fn approval(&self, approval: &str) -> &'static str {
        match approval {
            "approved" => self.approval_approved,
            "rejected" => self.approval_rejected,
            _ => self.approval_pending,
        }
    }

    /// A friendly headline for an error code; `None` when the code's own message says it best.
    pub fn error_headline(&self, code: ErrorCode) -> Option<&'static str> {
        Some(match code {
            ErrorCode::BadCredentials => self.err_bad_credentials,
            ErrorCode::AccountExists => self.err_account_exists,
            ErrorCode::InvalidPhoneOrEmail => self.err_invalid_login,
            ErrorCode::WeakPassword => self.err_weak_password,
            ErrorCode::OutOfStock => self.err_out_of_stock,
            ErrorCode::NotFound | ErrorCode::SkuNotFound => self.err_not_found,
            ErrorCode::Forbidden => self.err_forbidden,
            ErrorCode::InvalidInput | ErrorCode::InvalidQuantity => self.err_invalid_input,
            ErrorCode::TooManyAttempts | ErrorCode::RateLimited => self.err_too_many,
            ErrorCode::InvalidOrderState | ErrorCode::OrderExpired => self.err_order_state,
            ErrorCode::EmptyCart => self.err_empty_cart,
            ErrorCode::ShopAlreadyOpen => self.err_shop_open,
            ErrorCode::NoShop => self.err_no_shop,
            ErrorCode::Unauthenticated | ErrorCode::SessionExpired => self.err_session,
            ErrorCode::Internal => self.err_internal,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys whose Chinese text may equal the English one or be plain ASCII (codes, brand).
    const SAME_IN_BOTH: &[&str] = &["attributes_hint"];
    const ASCII_IN_ZH: &[&str] = &["html_lang", "switch_to_code", "switch_to_label", "attributes_hint"];

    #[test]
    fn every_english_string_is_filled() {
        for (key, text) in EN.entries() {
            assert!(!text.trim().is_empty() || key == "free_over_suffix", "EN.{key} is empty");
        }
        for (key, text) in ZH.entries() {
            assert!(!text.trim().is_empty(), "ZH.{key} is empty");
        }
    }

    #[test]
    fn chinese_strings_are_translated() {
        let en: std::collections::HashMap<_, _> = EN.entries().into_iter().collect();
        for (key, zh) in ZH.entries() {
            if !SAME_IN_BOTH.contains(&key) {
                assert_ne!(Some(&zh), en.get(key), "ZH.{key} is the English text");
            }
            if !ASCII_IN_ZH.contains(&key) {
                assert!(!zh.is_ascii(), "ZH.{key} = {zh:?} has no Chinese in it");
            }
        }
    }

    #[test]
    fn both_locales_have_the_same_keys() {
        let zh: Vec<_> = ZH.entries().into_iter().map(|(k, _)| k).collect();
        let en: Vec<_> = EN.entries().into_iter().map(|(k, _)| k).collect();
        assert_eq!(zh, en);
    }

    #[test]
    fn languages_parse() {
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::default().strings().html_lang, "zh-CN");
    }
}
