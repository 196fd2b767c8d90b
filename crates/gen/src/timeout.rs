//! [`with_timeout`]: a deadline for any future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tornado_concurrent::TimeoutError;
use tornado_ioloop::{Deadline, IoLoop, Sleep};

enum Message {
    Text(String),
    Lazy(Box<dyn FnOnce() -> String>),
}

/// Gives `future`'s output, or a [`TimeoutError`] if it is not done by `timeout`
/// (`tornado.gen.with_timeout`). `timeout` is an [`Instant`](std::time::Instant) on the loop's
/// clock or a [`Duration`](std::time::Duration) from now.
///
/// Like Tornado's, it does **not** cancel the work it waits for. Give it a handle (a
/// [`Task`](tornado_ioloop::Task), a [`tornado_concurrent::Future`]) and the work goes on
/// after the timeout; give it `&mut fut` (for an `Unpin` future, such as a boxed one) and you
/// keep the future to await again later. A future given by value has no other owner, so it
/// is dropped with the `WithTimeout`.
///
/// A future that is ready when first polled wins even against a deadline already past.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tornado_gen::{sleep, with_timeout};
/// use tornado_ioloop::IoLoop;
///
/// let io_loop = IoLoop::new();
/// io_loop
///     .run_sync(
///         || async {
///             let slow = IoLoop::current().spawn(sleep(Duration::from_secs(10)));
///             let err = with_timeout(Duration::from_millis(5), slow)
///                 .message("too slow")
///                 .await
///                 .unwrap_err();
///             assert_eq!(err.to_string(), "too slow");
///             assert_eq!(with_timeout(Duration::from_secs(1), async { 7 }).await, Ok(7));
///         },
///         None,
///     )
///     .unwrap();
/// ```
pub fn with_timeout<F: Future>(timeout: impl Into<Deadline>, future: F) -> WithTimeout<F> {
    WithTimeout {
        future: Box::pin(future),
        sleep: IoLoop::current().sleep(timeout),
        message: None,
    }
}

/// The future returned by [`with_timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct WithTimeout<F> {
    future: Pin<Box<F>>,
    sleep: Sleep,
    message: Option<Message>,
}

impl<F> WithTimeout<F> {
    /// The message of the [`TimeoutError`]. Default is `"Timeout"`.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(Message::Text(message.into()));
        self
    }

    /// A message computed only if the timeout expires (Tornado 6.6 accepts a callable, to
    /// save the cost of formatting it otherwise).
    pub fn message_with(mut self, message: impl FnOnce() -> String + 'static) -> Self {
        self.message = Some(Message::Lazy(Box::new(message)));
        self
    }
}

impl<F: Future> Future for WithTimeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(v) = this.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        if Pin::new(&mut this.sleep).poll(cx).is_ready() {
            let err = match this.message.take() {
                None => TimeoutError::new(),
                Some(Message::Text(m)) => TimeoutError::with_message(m),
                Some(Message::Lazy(f)) => TimeoutError::with_message(f()),
            };
            return Poll::Ready(Err(err));
        }
        Poll::Pending
    }
}

impl<F> Unpin for WithTimeout<F> {}

impl<F> fmt::Debug for WithTimeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithTimeout")
            .field("deadline", &self.sleep.deadline())
            .finish()
    }
}
