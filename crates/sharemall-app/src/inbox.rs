//! A user's inbox: reading it and marking it read.

use sharemall_domain::Error;
use sharemall_store::model::{InboxMessage, SessionUser};
use sharemall_store::ops::inbox;

use crate::App;

pub async fn messages(app: &App, user: &SessionUser, page: i64) -> Result<Vec<InboxMessage>, Error> {
    let id = user.user_id;
    app.store.read(move |sql| inbox::messages(sql, id, page, inbox::MAX_PER_PAGE)).await
}

pub async fn unread_count(app: &App, user: &SessionUser) -> Result<i64, Error> {
    let id = user.user_id;
    app.store.read(move |sql| inbox::unread_count(sql, id)).await
}

pub async fn mark_all_read(app: &App, user: &SessionUser) -> Result<u64, Error> {
    let (now, id) = (app.now(), user.user_id);
    app.store.write(move |sql| inbox::mark_all_read(sql, now, id)).await
}
