//! A small pool of reader threads, each owning a connection. A read use case is one closure,
//! so async code makes one hop per use case, never one per statement.

use sharemall_domain::Error;
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::oneshot;

use crate::sql::Sql;

type Job = Box<dyn FnOnce(&mut dyn Sql) + Send>;

#[derive(Clone)]
pub struct Readers {
    sender: mpsc::SyncSender<Job>,
}

impl Readers {
    /// Starts one thread per connection.
    pub fn start<C: Sql + Send + 'static>(conns: Vec<C>) -> Result<Readers, Error> {
        let (sender, receiver) = mpsc::sync_channel::<Job>(4_096);
        let receiver = Arc::new(Mutex::new(receiver));
        for (i, mut conn) in conns.into_iter().enumerate() {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("store-reader-{i}"))
                .spawn(move || {
                    loop {
                        // Hold the lock only to take a job, never while running it.
                        let job = match receiver.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut conn),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| Error::internal(format!("cannot start reader thread: {e}")))?;
        }
        Ok(Readers { sender })
    }

    pub async fn read<T, F>(&self, query: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Sql) -> Result<T, Error> + Send + 'static,
    {
        let (reply_to, reply) = oneshot::channel();
        let job: Job = Box::new(move |sql| {
            let _ = reply_to.send(query(sql));
        });
        self.sender.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => Error::new(sharemall_domain::ErrorCode::Overloaded, "the store is busy; try again"),
            mpsc::TrySendError::Disconnected(_) => Error::internal("readers stopped"),
        })?;
        reply.await.map_err(|_| Error::internal("reader dropped the query"))?
    }
}
