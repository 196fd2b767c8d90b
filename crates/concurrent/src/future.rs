//! [`Future`]: a settable, shareable one-shot result, Tornado's (asyncio's) `Future`.

use std::fmt;
use std::future::Future as StdFuture;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::error::{BoxError, Error, panic_message};

type Callback<T> = Box<dyn FnOnce(&Future<T>) + Send + 'static>;

/// A result that will be set later, by whoever holds a clone of the future.
///
/// This is Tornado's `Future` (an `asyncio.Future`, or a `concurrent.futures.Future` when it
/// comes from an executor): code that produces a value calls [`set_result`](Future::set_result)
/// or [`set_exception`](Future::set_exception), code that wants it awaits the future or adds a
/// done callback. Every clone is a handle to the same result, as every Python reference is.
///
/// * Awaiting a `Future<T>` yields `Result<T, Error>` and needs `T: Clone`, because every
///   clone may be awaited and each one gets the value, as in Python. For a result that is not
///   `Clone` (a file, a stream), await [`take`](Future::take), which moves the value out once.
/// * Unlike an asyncio future, this one is thread-safe (`Send + Sync` when `T: Send`): an
///   executor thread may complete it while a loop awaits it. It knows no event loop; the waker
///   of the awaiting task decides where the awaiter resumes.
/// * Done callbacks run on the thread that completes the future, in the order they were added,
///   or at once if the future is already done (Tornado's `future_add_done_callback`).
///
/// # Examples
///
/// ```
/// use tornado_concurrent::Future;
///
/// let fut = Future::new();
/// let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
/// let s = seen.clone();
/// fut.add_done_callback(move |f: &Future<usize>| {
///     s.store(f.result().unwrap().unwrap(), std::sync::atomic::Ordering::SeqCst)
/// });
/// assert!(!fut.done());
/// fut.set_result(42).unwrap();
/// assert!(fut.done());
/// assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 42);
/// assert!(fut.set_result(43).is_err(), "a future is set only once");
/// ```
pub struct Future<T> {
    inner: Arc<Mutex<State<T>>>,
    /// Identifies this handle among the clones so that each keeps at most one waker; 0 until
    /// the handle first waits (most handles never do, and pay nothing for it).
    id: u64,
    /// This handle stored a waker (so dropping it must remove that waker).
    registered: bool,
}

struct State<T> {
    outcome: Outcome<T>,
    /// The waker of the first awaiting handle, kept inline: one awaiter is the common case
    /// and costs no allocation.
    waker: Option<(u64, Waker)>,
    /// Wakers of further awaiting handles, keyed by handle id.
    more_wakers: Vec<(u64, Waker)>,
    callbacks: Vec<Callback<T>>,
}

enum Outcome<T> {
    Pending,
    Done(Result<T, Error>),
    /// The value was moved out by `take`; later readers get `Error::taken()`.
    Taken,
}

static NEXT_HANDLE_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_HANDLE_ID.fetch_add(1, Ordering::Relaxed)
}

/// Returned when a result is set on a future that is already done (asyncio's
/// `InvalidStateError`). [`future_set_result_unless_cancelled`] avoids it for the common race
/// with cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidStateError;

impl fmt::Display for InvalidStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid state: the future is already done")
    }
}

impl std::error::Error for InvalidStateError {}

impl<T> Future<T> {
    /// A new, pending future.
    pub fn new() -> Self {
        Future {
            inner: Arc::new(Mutex::new(State {
                outcome: Outcome::Pending,
                waker: None,
                more_wakers: Vec::new(),
                callbacks: Vec::new(),
            })),
            id: 0,
            registered: false,
        }
    }

    /// A future that is already done with `value`.
    pub fn resolved(value: T) -> Self {
        let f = Future::new();
        f.inner.lock().outcome = Outcome::Done(Ok(value));
        f
    }

    /// A future that is already done with `error`.
    pub fn failed(error: Error) -> Self {
        let f = Future::new();
        f.inner.lock().outcome = Outcome::Done(Err(error));
        f
    }

    /// Sets the result, wakes every awaiter and runs the done callbacks.
    ///
    /// Fails with [`InvalidStateError`] (dropping `value`) if the future is already done,
    /// including when it was cancelled.
    pub fn set_result(&self, value: T) -> Result<(), InvalidStateError> {
        self.complete(Ok(value))
    }

    /// Sets an error as the outcome, like `set_exception`: awaiters get
    /// `Err(e)` with [`Error::is_exception`] true.
    pub fn set_exception(&self, error: impl Into<BoxError>) -> Result<(), InvalidStateError> {
        self.complete(Err(Error::new(error)))
    }

    /// Sets an [`Error`] as the outcome, as it is (for forwarding the outcome of another
    /// future or task, a panic, a cancellation).
    pub fn set_error(&self, error: Error) -> Result<(), InvalidStateError> {
        self.complete(Err(error))
    }

    /// Cancels the future if it is still pending: awaiters get an error with
    /// [`Error::is_cancelled`]. Returns `false` if it was already done.
    pub fn cancel(&self) -> bool {
        self.complete(Err(Error::cancelled())).is_ok()
    }

    /// `true` if the future was cancelled.
    pub fn cancelled(&self) -> bool {
        matches!(&self.inner.lock().outcome, Outcome::Done(Err(e)) if e.is_cancelled())
    }

    /// `true` once a result, an error or a cancellation has been set.
    pub fn done(&self) -> bool {
        !matches!(self.inner.lock().outcome, Outcome::Pending)
    }

    /// The error the future finished with, or `None` if it is pending or succeeded
    /// (`Future.exception()`, which raises where this returns `None` for a pending future).
    pub fn error(&self) -> Option<Error> {
        match &self.inner.lock().outcome {
            Outcome::Done(Err(e)) => Some(e.clone()),
            Outcome::Taken => Some(Error::taken()),
            _ => None,
        }
    }

    /// Moves the outcome out if the future is done, leaving it "taken": later reads of the
    /// value through any clone get an error with [`Error::is_taken`].
    pub fn try_take(&self) -> Option<Result<T, Error>> {
        let mut state = self.inner.lock();
        match std::mem::replace(&mut state.outcome, Outcome::Taken) {
            Outcome::Pending => {
                state.outcome = Outcome::Pending;
                None
            }
            Outcome::Done(r) => Some(r),
            Outcome::Taken => Some(Err(Error::taken())),
        }
    }

    /// A future that waits for the outcome and moves it out, for results that are not
    /// `Clone`. Await it from one place only: later readers get [`Error::is_taken`].
    pub fn take(&self) -> Take<T> {
        Take {
            fut: Future {
                inner: self.inner.clone(),
                id: 0,
                registered: false,
            },
        }
    }

    /// Adds a callback that runs with this future once it is done; at once, on this thread,
    /// if it already is. A panic in a callback is logged on the `application` target and
    /// does not stop the other callbacks.
    pub fn add_done_callback(&self, callback: impl FnOnce(&Future<T>) + Send + 'static) {
        {
            let mut state = self.inner.lock();
            if matches!(state.outcome, Outcome::Pending) {
                state.callbacks.push(Box::new(callback));
                return;
            }
        }
        run_callback(self, Box::new(callback));
    }

    fn complete(&self, outcome: Result<T, Error>) -> Result<(), InvalidStateError> {
        let (waker, more_wakers, callbacks) = {
            let mut state = self.inner.lock();
            if !matches!(state.outcome, Outcome::Pending) {
                return Err(InvalidStateError);
            }
            state.outcome = Outcome::Done(outcome);
            (
                state.waker.take(),
                std::mem::take(&mut state.more_wakers),
                std::mem::take(&mut state.callbacks),
            )
        };
        // Wake and call back outside the lock: both may read the future again.
        if let Some((_, w)) = waker {
            w.wake();
        }
        for (_, w) in more_wakers {
            w.wake();
        }
        for cb in callbacks {
            run_callback(self, cb);
        }
        Ok(())
    }

    /// Stores the waker of the handle whose `id` and `registered` fields these are, giving
    /// the handle its id on first use.
    fn register_handle(id: &mut u64, registered: &mut bool, state: &mut State<T>, waker: &Waker) {
        if *id == 0 {
            *id = next_id();
        }
        Future::register(state, *id, waker);
        *registered = true;
    }

    fn register(state: &mut State<T>, id: u64, waker: &Waker) {
        let slot = match &mut state.waker {
            Some((i, w)) if *i == id => Some(w),
            Some(_) => state
                .more_wakers
                .iter_mut()
                .find(|(i, _)| *i == id)
                .map(|(_, w)| w),
            None => {
                state.waker = Some((id, waker.clone()));
                return;
            }
        };
        match slot {
            Some(w) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
            }
            None => state.more_wakers.push((id, waker.clone())),
        }
    }

    /// Forgets the waker of handle `id` (a handle dropped while awaiting).
    fn unregister(&self, id: u64) {
        let mut state = self.inner.lock();
        if state.waker.as_ref().is_some_and(|(i, _)| *i == id) {
            state.waker = state.more_wakers.pop();
        } else {
            state.more_wakers.retain(|(i, _)| *i != id);
        }
    }
}

fn run_callback<T>(fut: &Future<T>, cb: Callback<T>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| cb(fut))) {
        log::error!(
            target: "application",
            "Exception in callback for future: {}",
            panic_message(payload.as_ref())
        );
    }
}

impl<T: Clone> Future<T> {
    /// The outcome if the future is done (a clone of the value), or `None` while it is
    /// pending (`Future.result()`, which raises where this returns `None`).
    pub fn result(&self) -> Option<Result<T, Error>> {
        match &self.inner.lock().outcome {
            Outcome::Pending => None,
            Outcome::Done(r) => Some(r.clone()),
            Outcome::Taken => Some(Err(Error::taken())),
        }
    }
}

impl<T> Default for Future<T> {
    fn default() -> Self {
        Future::new()
    }
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future {
            inner: self.inner.clone(),
            id: 0,
            registered: false,
        }
    }
}

impl<T> Drop for Future<T> {
    fn drop(&mut self) {
        // A handle dropped while awaiting leaves no stale waker behind. Handles that never
        // waited (or the last handle) need no lock.
        if self.registered && Arc::strong_count(&self.inner) > 1 {
            self.unregister(self.id);
        }
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.inner.lock().outcome {
            Outcome::Pending => "pending",
            Outcome::Done(Ok(_)) => "done",
            Outcome::Done(Err(e)) if e.is_cancelled() => "cancelled",
            Outcome::Done(Err(_)) => "failed",
            Outcome::Taken => "taken",
        };
        f.debug_struct("Future").field("state", &state).finish()
    }
}

impl<T: Clone> StdFuture for Future<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Future {
            inner,
            id,
            registered,
        } = self.get_mut();
        let mut state = inner.lock();
        // Once done, `complete` has already taken every waker: nothing to unregister.
        match &state.outcome {
            Outcome::Pending => {
                Future::register_handle(id, registered, &mut state, cx.waker());
                Poll::Pending
            }
            Outcome::Done(r) => {
                *registered = false;
                Poll::Ready(r.clone())
            }
            Outcome::Taken => {
                *registered = false;
                Poll::Ready(Err(Error::taken()))
            }
        }
    }
}

/// The future returned by [`Future::take`]: resolves to the outcome, moved out.
#[must_use = "futures do nothing unless awaited"]
pub struct Take<T> {
    fut: Future<T>,
}

impl<T> StdFuture for Take<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Future {
            inner,
            id,
            registered,
        } = &mut self.get_mut().fut;
        let mut state = inner.lock();
        match std::mem::replace(&mut state.outcome, Outcome::Taken) {
            Outcome::Pending => {
                state.outcome = Outcome::Pending;
                Future::register_handle(id, registered, &mut state, cx.waker());
                Poll::Pending
            }
            Outcome::Done(r) => {
                *registered = false;
                Poll::Ready(r)
            }
            Outcome::Taken => {
                *registered = false;
                Poll::Ready(Err(Error::taken()))
            }
        }
    }
}

impl<T> fmt::Debug for Take<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Take").field(&self.fut).finish()
    }
}

/// Makes `b` finish the way `a` does, unless `b` is already done by then
/// (`tornado.concurrent.chain_future`). Cancelling `b` does not cancel `a`.
pub fn chain_future<T: Clone + Send + 'static>(a: &Future<T>, b: &Future<T>) {
    let b = b.clone();
    a.add_done_callback(move |a| {
        if b.done() {
            return;
        }
        if let Some(outcome) = a.result() {
            let _ = b.complete(outcome);
        }
    });
}

/// Sets `value` as the result unless the future was cancelled
/// (`tornado.concurrent.future_set_result_unless_cancelled`): the producer of a value need
/// not care whether its consumer gave up.
pub fn future_set_result_unless_cancelled<T>(future: &Future<T>, value: T) {
    if !future.cancelled() {
        let _ = future.set_result(value);
    }
}

/// Sets `error` unless the future was cancelled; if it was, the error is logged on the
/// `application` target instead of being lost
/// (`tornado.concurrent.future_set_exception_unless_cancelled`).
pub fn future_set_exception_unless_cancelled<T>(future: &Future<T>, error: impl Into<BoxError>) {
    let error = error.into();
    if future.cancelled() {
        log::error!(target: "application", "Exception after Future was cancelled: {error}");
    } else {
        let _ = future.set_exception(error);
    }
}

/// Adds a done callback, run at once if the future is already done
/// (`tornado.concurrent.future_add_done_callback`); the same as
/// [`Future::add_done_callback`].
pub fn future_add_done_callback<T>(
    future: &Future<T>,
    callback: impl FnOnce(&Future<T>) + Send + 'static,
) {
    future.add_done_callback(callback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn noop_cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn clones_all_see_the_value() {
        let a = Future::new();
        let b = a.clone();
        a.set_result(String::from("x")).unwrap();
        let mut cx = noop_cx();
        match Pin::new(&mut b.clone()).poll(&mut cx) {
            Poll::Ready(Ok(v)) => assert_eq!(v, "x"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(b.result().unwrap().unwrap(), "x");
    }

    #[test]
    fn take_moves_out_once() {
        let a: Future<Vec<u8>> = Future::resolved(vec![1]);
        let mut cx = noop_cx();
        let mut t = a.take();
        match Pin::new(&mut t).poll(&mut cx) {
            Poll::Ready(Ok(v)) => assert_eq!(v, vec![1]),
            other => panic!("unexpected {other:?}"),
        }
        assert!(a.try_take().unwrap().unwrap_err().is_taken());
    }

    #[test]
    fn each_handle_keeps_one_waker() {
        let a: Future<u8> = Future::new();
        let mut b = a.clone();
        let mut cx = noop_cx();
        for _ in 0..10 {
            assert!(Pin::new(&mut b).poll(&mut cx).is_pending());
        }
        {
            let state = a.inner.lock();
            assert!(state.waker.is_some() && state.more_wakers.is_empty());
        }
        let mut c = a.clone();
        assert!(Pin::new(&mut c).poll(&mut cx).is_pending());
        assert_eq!(a.inner.lock().more_wakers.len(), 1);
        drop(b);
        {
            let state = a.inner.lock();
            assert!(state.waker.is_some() && state.more_wakers.is_empty());
        }
        drop(c);
        assert!(a.inner.lock().waker.is_none());
    }

    #[test]
    fn callbacks_run_in_order_and_survive_panics() {
        let f = Future::new();
        let order = Arc::new(Mutex::new(Vec::new()));
        for i in 0..3 {
            let o = order.clone();
            f.add_done_callback(move |_: &Future<()>| {
                o.lock().push(i);
                assert!(i != 1, "callback 1 panics");
            });
        }
        f.set_result(()).unwrap();
        assert_eq!(*order.lock(), vec![0, 1, 2]);
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        f.add_done_callback(move |_| {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(
            ran.load(Ordering::SeqCst),
            1,
            "runs at once when already done"
        );
    }

    #[test]
    fn cancel_only_pending() {
        let f: Future<()> = Future::new();
        assert!(f.cancel());
        assert!(f.cancelled());
        assert!(!f.cancel());
        assert_eq!(f.set_result(()), Err(InvalidStateError));
    }
}
