//! The after-sales pages over HTTP: the customer opens a return from the order page's form (a
//! refusal shown on the form, a double submit opening one case), the supplier approves it from
//! the returns queue, the customer enters the tracking number, the supplier confirms the goods,
//! and the refund job pays; "My returns" and the order page show where it stands.

use serde_json::json;

use crate::bargain_pages::{html, location, page, post_form};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_through_the_pages() {
    let app = spawn_app().await;
    let f = app.fixture(3_000, 10).await;
    let (customer, supplier) = (f.customer.token.clone(), f.supplier.actor.token.clone());
    let order_id = app.placed_order(&customer, &f.shop.shop_id, &f.product.sku_id, 2).await;
    app.pay(&customer, &order_id).await;
    let ship = json!({"carrier": "顺丰速运", "tracking_no": "SF1234567890"});
    app.post(&format!("/supplier/orders/{order_id}/ship"), Some(&supplier), &ship).await.ok();
    let before = page(&app, &format!("/orders/{order_id}"), Some(&customer)).await;
    assert!(!html(&before).contains(r#"id="apply-return""#), "no return before receipt");
    app.post(&format!("/orders/{order_id}/receive"), Some(&customer), &json!({})).await.ok();
    let order_page = page(&app, &format!("/orders/{order_id}"), Some(&customer)).await;
    assert!(html(&order_page).contains(r#"id="apply-return""#));

    let form_path = format!("/orders/{order_id}/return");
    let form_page = page(&app, &format!("{form_path}?lang=en"), Some(&customer)).await;
    let text = html(&form_page);
    assert!(text.contains(r#"name="qty_1""#) && text.contains(r#"max="2""#) && text.contains("7-day no-reason return"), "{text}");
    let stranger = app.register_customer().await;
    assert_eq!(page(&app, &form_path, Some(&stranger.token)).await.status, 404);

    // A quality return without a description is refused on the form; nothing is opened.
    let refused =
        post_form(&app, &format!("{form_path}?lang=en"), Some(&customer), &[("reason", "quality"), ("qty_1", "1"), ("form_token", "r-1")])
            .await;
    assert_eq!(refused.status, 200);
    assert!(refused.text.contains(r#"id="return-error""#), "{}", refused.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM after_sales").await, 0);

    // A double submit of one form opens one case.
    let fields = [("reason", "no_reason"), ("description", ""), ("qty_1", "1"), ("form_token", "r-2")];
    let first = location(&post_form(&app, &form_path, Some(&customer), &fields).await);
    let second = location(&post_form(&app, &form_path, Some(&customer), &fields).await);
    assert!(first.starts_with("/returns/"), "{first}");
    assert_eq!(first, second);
    assert_eq!(app.count("SELECT COUNT(*) FROM after_sales").await, 1);
    let case_page = page(&app, &first, Some(&customer)).await;
    assert!(html(&case_page).contains(r#"data-status="requested""#) && case_page.text.contains("¥30.00"));
    assert!(html(&page(&app, "/returns", Some(&customer)).await).contains(&first));

    // The supplier finds it in the queue and approves it; a customer can't open the queue.
    assert_eq!(page(&app, "/console/returns", Some(&customer)).await.status, 403);
    let queue = page(&app, "/console/returns", Some(&supplier)).await;
    assert!(html(&queue).contains(&first), "{}", queue.text);
    assert!(html(&page(&app, &first, Some(&supplier)).await).contains(r#"id="return-approve""#));
    assert_eq!(location(&post_form(&app, &format!("{first}/approve"), Some(&supplier), &[]).await), first);
    let approved = page(&app, &first, Some(&customer)).await;
    assert!(html(&approved).contains(r#"id="ship-back-form""#));

    let back = [("carrier", "中通快递"), ("tracking_no", "ZT000111222")];
    assert_eq!(location(&post_form(&app, &format!("{first}/ship-back"), Some(&customer), &back).await), first);
    assert!(html(&page(&app, &first, Some(&supplier)).await).contains("中通快递 ZT000111222"));
    assert_eq!(location(&post_form(&app, &format!("{first}/goods-received"), Some(&supplier), &[]).await), first);
    // Clicking it again is refused: the case has moved on.
    assert_eq!(post_form(&app, &format!("{first}/goods-received"), Some(&supplier), &[]).await.status, 409);

    app.run_jobs().await;
    assert!(html(&page(&app, &first, Some(&customer)).await).contains(r#"data-status="refunded""#));
    let order_page = page(&app, &format!("/orders/{order_id}"), Some(&customer)).await;
    assert!(html(&order_page).contains(r#"id="order-returns""#) && order_page.text.contains("退款成功"));
    app.assert_consistent().await;
}
