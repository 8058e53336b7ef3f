//! Every use case's SQL runs on both backends (PostgreSQL infers parameter types, so SQL that
//! SQLite accepts may not prepare there), and the cart checkout works through `place_order`.

use sharemall_domain::account::{LoginId, Role};
use sharemall_domain::catalog::Approval;
use sharemall_domain::order::OrderStatus;
use sharemall_domain::{ErrorCode, SkuId};
use sharemall_store::model::SessionKind;
use sharemall_store::ops::accounts;
use sharemall_store::ops::cart;
use sharemall_store::ops::catalog::{self, ProductFilter, Viewer};
use sharemall_store::ops::orders::{self, OrderScope};
use sharemall_store::ops::payments;
use sharemall_store::ops::sandbox::{self, NewSandboxTransaction};
use sharemall_store::ops::shops;

use crate::harness::*;

backend_test! {
    async fn every_read_runs(h: Harness) {
        let fx = h.fixture(2, 1_200, 20, 2).await;
        let (customer, shop, supplier, product) = (fx.customers[0], fx.shop, fx.supplier, fx.products[0]);
        let placed = h.place(T0, fx.order(customer, vec![(fx.skus[0], 1), (fx.skus[1], 2)], order_no("Q", 0))).await;
        let id = placed.order_id;
        let o = h.store.read(move |sql| orders::load_order(sql, id)).await.expect("load order");
        assert_eq!((o.items.len(), o.goods_fen, o.payable_fen), (2, 3_600, 4_400));
        assert_eq!(o.items.iter().map(|i| i.goods_fen).sum::<i64>(), o.goods_fen);

        for scope in [OrderScope::Customer(customer), OrderScope::Shop(shop), OrderScope::Supplier(supplier), OrderScope::Platform] {
            for status in [None, Some(OrderStatus::Created), Some(OrderStatus::Completed)] {
                let list = h.store.read(move |sql| orders::list_orders(sql, scope, status, 1, 20)).await;
                let list = list.unwrap_or_else(|e| panic!("[{:?}] list_orders {scope:?} {status:?}: {e}", h.kind));
                let expected = usize::from(status != Some(OrderStatus::Completed));
                assert_eq!(list.len(), expected, "[{:?}] list_orders {scope:?} {status:?}", h.kind);
            }
        }

        let filters = [
            ProductFilter::default(),
            ProductFilter { approval: Some(Approval::Approved), ..ProductFilter::default() },
            ProductFilter { supplier: Some(supplier), ..ProductFilter::default() },
            ProductFilter { shop: Some(shop), ..ProductFilter::default() },
            ProductFilter { on_sale: true, ..ProductFilter::default() },
            ProductFilter { search: Some("Test".into()), ..ProductFilter::default() },
            ProductFilter { approval: Some(Approval::Approved), supplier: Some(supplier), shop: Some(shop), on_sale: true, search: Some("product".into()) },
        ];
        for filter in filters {
            let shown = filter.clone();
            let list = h.store.read(move |sql| catalog::list_products(sql, &filter, Viewer::Public, 1, 20)).await;
            let list = list.unwrap_or_else(|e| panic!("[{:?}] list_products {shown:?}: {e}", h.kind));
            assert_eq!(list.len(), 2, "[{:?}] list_products {shown:?}", h.kind);
        }
        let pending = ProductFilter { approval: Some(Approval::Pending), ..ProductFilter::default() };
        assert!(h.store.read(move |sql| catalog::list_products(sql, &pending, Viewer::Trade, 1, 20)).await.expect("pending").is_empty());
        let public = h.store.read(move |sql| catalog::load_product(sql, product, Viewer::Public)).await.expect("product");
        assert!(public.skus[0].supply_fen.is_none());
        let trade = h.store.read(move |sql| catalog::load_product(sql, product, Viewer::Trade)).await.expect("product");
        assert_eq!(trade.skus[0].supply_fen, Some(720));
        for approval in [None, Some(Approval::Approved), Some(Approval::Rejected)] {
            let list = h.store.read(move |sql| catalog::list_suppliers(sql, approval)).await;
            let list = list.unwrap_or_else(|e| panic!("[{:?}] list_suppliers {approval:?}: {e}", h.kind));
            assert_eq!(list.len(), usize::from(approval != Some(Approval::Rejected)));
        }
        let sku = fx.skus[0];
        assert_eq!(h.store.write(move |sql| catalog::restock(sql, supplier, sku, 5)).await.expect("restock"), 24);

        let shop_list = h.store.read(|sql| shops::list_shops(sql, 10)).await.expect("shops");
        assert_eq!(shop_list.len(), 1);
        assert_eq!(h.store.read(move |sql| shops::load_shop(sql, shop)).await.expect("shop").id, shop);
        assert!(h.store.read(move |sql| shops::carries(sql, shop, product)).await.expect("carries"));

        // Accounts and sessions.
        let login = LoginId::parse("13912345678").expect("login");
        let new = accounts::NewUser { login: login.clone(), password_hash: "$dummy".into(), display_name: "Phone user".into(), roles: vec![Role::Customer] };
        let user = h.store.write(move |sql| accounts::create_user(sql, T0, new)).await.expect("user");
        let dup = accounts::NewUser { login: login.clone(), password_hash: "$dummy".into(), display_name: "Again".into(), roles: vec![] };
        assert_eq!(code(&h.store.write(move |sql| accounts::create_user(sql, T0, dup)).await), Some(ErrorCode::AccountExists));
        let found = h.store.read(move |sql| accounts::credentials(sql, &login)).await.expect("credentials");
        assert_eq!(found, Some((user, "$dummy".to_string())));
        h.store.write(move |sql| accounts::create_session(sql, "tok", user, SessionKind::Bearer, T0, T0.plus_ms(1_000))).await.expect("session");
        let me = h.store.read(move |sql| accounts::session_user(sql, "tok", SessionKind::Bearer, T0)).await.expect("session user");
        assert_eq!((me.user_id, me.roles.clone(), me.shop_id), (user, vec![Role::Customer], None));
        let wrong_kind = h.store.read(move |sql| accounts::session_user(sql, "tok", SessionKind::Cookie, T0)).await;
        assert_eq!(code(&wrong_kind), Some(ErrorCode::Unauthenticated));
        let expired = h.store.read(move |sql| accounts::session_user(sql, "tok", SessionKind::Bearer, T0.plus_ms(1_000))).await;
        assert_eq!(code(&expired), Some(ErrorCode::SessionExpired));
        h.store.write(move |sql| accounts::revoke_session(sql, "tok", T0)).await.expect("revoke");
        let revoked = h.store.read(move |sql| accounts::session_user(sql, "tok", SessionKind::Bearer, T0)).await;
        assert_eq!(code(&revoked), Some(ErrorCode::SessionExpired));
        assert_eq!(h.store.read(move |sql| accounts::load_user(sql, user)).await.expect("load user").login, "13912345678");

        // The sandbox provider's books and callback nonces.
        let txn = h
            .store
            .write(|sql| {
                let new = NewSandboxTransaction { out_trade_no: "SBX-1", amount_fen: 500, description: "d", notify_url: "http://n", return_url: "http://r" };
                sandbox::open_transaction(sql, T0, new)
            })
            .await
            .expect("open transaction");
        let paid = h.store.write(move |sql| sandbox::mark_paid(sql, T0, &txn.id)).await.expect("mark paid");
        assert_eq!(paid.status, "paid");
        let refund = h.store.write(|sql| sandbox::refund(sql, T0, "SBX-1", "SBR-1", 200)).await.expect("refund");
        assert_eq!(h.store.write(|sql| sandbox::refund(sql, T0, "SBX-1", "SBR-1", 200)).await.expect("refund again"), refund);
        assert_eq!(code(&h.store.write(|sql| sandbox::refund(sql, T0, "SBX-1", "SBR-2", 301)).await), Some(ErrorCode::RefundExceedsPaid));
        assert!(h.store.write(|sql| payments::remember_nonce(sql, T0, "sandbox", "n1")).await.expect("nonce"));
        assert!(!h.store.write(|sql| payments::remember_nonce(sql, T0, "sandbox", "n1")).await.expect("nonce again"));
        h.assert_consistent("reads").await;
    }
}

backend_test! {
    /// Checkout from the cart empties the cart for that shop only; refusals name their reason.
    async fn cart_checkout_and_refusals(h: Harness) {
        let fx = h.fixture(2, 1_000, 10, 1).await;
        let customer = fx.customers[0];
        let other = h.fixture(1, 1_000, 10, 0).await;
        for (shop, sku, qty) in [(fx.shop, fx.skus[0], 2), (fx.shop, fx.skus[1], 1), (other.shop, other.skus[0], 3)] {
            h.store.write(move |sql| cart::set_cart_line(sql, T0, customer, shop, sku, qty)).await.expect("cart line");
        }
        let (shop_a, shop_b, foreign) = (fx.shop, other.shop, other.skus[0]);
        let not_here = h.store.write(move |sql| cart::set_cart_line(sql, T0, customer, shop_a, foreign, 1)).await;
        assert_eq!(code(&not_here), Some(ErrorCode::SkuNotOnSale));
        let lines = h.store.read(move |sql| cart::cart_lines(sql, customer, shop_a)).await.expect("cart");
        assert_eq!(lines.len(), 2);
        let mut cmd = fx.order(customer, lines.iter().map(|l| (l.sku_id, l.quantity)).collect(), order_no("CART", 0));
        cmd.from_cart = true;
        h.place(T0, cmd).await;
        assert!(h.store.read(move |sql| cart::cart_lines(sql, customer, shop_a)).await.expect("cart").is_empty());
        assert_eq!(h.store.read(move |sql| cart::cart_lines(sql, customer, shop_b)).await.expect("other cart").len(), 1);

        // Refusals: unknown SKU, a SKU the shop does not sell, an unknown shop, bad quantities.
        let mut unknown_shop = fx.order(customer, vec![(fx.skus[0], 1)], order_no("BAD", 6));
        unknown_shop.shop = sharemall_domain::ShopId::new();
        let refused = [
            (fx.order(customer, vec![(SkuId::new(), 1)], order_no("BAD", 0)), ErrorCode::SkuNotFound),
            (fx.order(customer, vec![(other.skus[0], 1)], order_no("BAD", 1)), ErrorCode::SkuNotOnSale),
            (fx.order(customer, vec![(fx.skus[0], 0)], order_no("BAD", 2)), ErrorCode::InvalidQuantity),
            (fx.order(customer, vec![(fx.skus[0], 11)], order_no("BAD", 3)), ErrorCode::OutOfStock),
            (fx.order(customer, vec![(fx.skus[0], 600), (fx.skus[0], 600)], order_no("BAD", 4)), ErrorCode::InvalidQuantity),
            (fx.order(customer, vec![], order_no("BAD", 5)), ErrorCode::EmptyCart),
            (unknown_shop, ErrorCode::NotFound),
        ];
        for (cmd, expected) in refused {
            let lines = cmd.lines.clone();
            let result = h.place_result(T0, cmd).await;
            assert_eq!(code(&result), Some(expected), "[{:?}] {lines:?}: {result:?}", h.kind);
        }
        // Duplicate lines merge; a reused order number is refused without touching stock.
        let merged = h.place(T0, fx.order(customer, vec![(fx.skus[1], 1), (fx.skus[1], 2)], order_no("MERGE", 0))).await;
        assert_eq!(merged.payable_fen, 3_000 + 800);
        let no = order_no("DUP", 0);
        h.place(T0, fx.order(customer, vec![(fx.skus[1], 1)], no.clone())).await;
        let before = h.stock(fx.skus[1]).await;
        let dup = h.place_result(T0, fx.order(customer, vec![(fx.skus[1], 1)], no)).await;
        assert!(dup.is_err(), "[{:?}] a reused order number was accepted", h.kind);
        assert_eq!(h.stock(fx.skus[1]).await, before);
        h.assert_consistent("cart").await;
    }
}
