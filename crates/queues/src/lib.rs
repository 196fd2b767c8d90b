//! Queues for coroutines: [`Queue`], [`PriorityQueue`], [`LifoQueue`]. Port of
//! `tornado.queues`.
//!
//! This is layer 4 of the workspace, on top of the loop and `tornado-locks`. Like
//! Tornado's, these queues coordinate the coroutines (tasks) of one
//! [`IoLoop`](tornado_ioloop::IoLoop): they are single-threaded, `!Send`, and take no
//! system lock. A queue is a cheap handle; clone it to share it between producers and
//! consumers.
//!
//! Every wait has two forms: [`put`](Queue::put) / [`get`](Queue::get) /
//! [`join`](Queue::join), and `put_timeout` / `get_timeout` / `join_timeout`, whose timeout
//! is an [`Instant`](std::time::Instant) on the loop's clock or a
//! [`Duration`](std::time::Duration) from now (Tornado's "number or `timedelta`") and which
//! fail with [`TimeoutError`]. A deadline already past (a zero duration) answers at once, as
//! in Tornado 6.6.
//!
//! Getters and putters are served first come, first served. A getter that times out or is
//! dropped never loses an item (one it was given goes back to the queue), and a putter that
//! times out or is dropped never puts its item.
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(tornado_queues::Queue::<u32>::new());
//! ```
//!
//! # Examples
//!
//! A producer and a consumer, with `task_done` and `join` (the example of Tornado's docs):
//!
//! ```
//! use std::time::Duration;
//! use tornado_gen::sleep;
//! use tornado_ioloop::IoLoop;
//! use tornado_queues::Queue;
//!
//! IoLoop::new()
//!     .run_sync(
//!         || async {
//!             let q = Queue::with_maxsize(2);
//!             let consumer = q.clone();
//!             IoLoop::current().spawn_callback(async move {
//!                 let mut items = consumer.stream();
//!                 while let Some(item) = items.next().await {
//!                     println!("Doing work on {item}");
//!                     sleep(Duration::from_millis(1)).await;
//!                     consumer.task_done().unwrap();
//!                 }
//!             });
//!             for item in 0..5 {
//!                 q.put(item).await;
//!                 println!("Put {item}");
//!             }
//!             q.join_timeout(Duration::from_secs(5)).await.unwrap();
//!             println!("Done");
//!         },
//!         Some(Duration::from_secs(10)),
//!     )
//!     .unwrap();
//! ```
//!
//! # Differences from Tornado
//!
//! * `get()` and `put()` act when called, as in Tornado (an item is taken, or a place in
//!   line), but their futures own what they hold: dropping a [`Get`] that was given an item
//!   puts the item back (first to the next getter, else to the head of the queue, which may
//!   briefly take the queue past `maxsize`); dropping a pending [`Put`] withdraws its item.
//!   In Tornado a cancelled getter can lose its item, and a discarded `q.get()` consumes one.
//! * [`put_nowait`](Queue::put_nowait) returns the item inside [`QueueFull`]; a timed-out
//!   `put_timeout` drops it (Python's caller still holds a reference; here, keep a clone).
//! * `async for item in q` is [`Queue::stream`] ([`QueueStream::next`] /
//!   [`QueueStream::poll_next`]): the standard library has no `Stream` trait yet.
//! * [`PriorityQueue`] and [`LifoQueue`] are their own types that dereference to [`Queue`]
//!   (Tornado subclasses it) and convert into it. Subclassing with `_init`/`_put`/`_get` is
//!   not offered.
//! * `maxsize` is a `usize`: Tornado's `TypeError`/`ValueError` for `None`, negative or
//!   float sizes cannot happen. `task_done` too many times returns [`TaskDoneError`]
//!   (Tornado raises `ValueError`).
//! * Timed-out getters and putters leave the line as soon as their task sees the deadline,
//!   or when they would have been served; Tornado sweeps them at the next `get` or `put`.
//!   [`Queue::getters`] and [`Queue::putters`] count waiters in line.
//! * `repr`/`str` are `Debug`.
#![doc(test(attr(deny(warnings))))]

mod buffer;
mod error;
mod futures;
mod kinds;
mod queue;
mod stream;

pub use error::{QueueEmpty, QueueFull, TaskDoneError};
pub use futures::{Get, GetTimeout, Put, PutTimeout};
pub use kinds::{LifoQueue, PriorityQueue};
pub use queue::Queue;
pub use stream::QueueStream;
pub use tornado_concurrent::TimeoutError;
pub use tornado_locks::{EventWait, EventWaitTimeout};
