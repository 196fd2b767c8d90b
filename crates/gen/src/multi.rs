//! [`multi`]: wait for many futures in parallel.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::unordered::Unordered;

/// A collection of futures that [`multi`] can wait for: a `Vec` (results in the same order)
/// or a `HashMap` / `BTreeMap` (results under the same keys), Tornado's list and dict forms.
///
/// Each future yields `Result<Item, Error>`, as a Tornado future yields a value or raises.
pub trait MultiInput {
    /// The futures waited for.
    type Future: Future<Output = Result<Self::Item, Self::Error>>;
    /// What a future yields on success.
    type Item;
    /// What a future yields on failure.
    type Error;
    /// The collection of results.
    type Output;
    /// What is kept to rebuild the collection (the keys of a map).
    type Keys;

    /// Splits the input into the futures, in order, and what rebuilds the output.
    fn split(self) -> (Self::Keys, Vec<Self::Future>);
    /// Rebuilds the output from the results, in the order of `split`.
    fn assemble(keys: Self::Keys, items: Vec<Self::Item>) -> Self::Output;
}

impl<F, T, E> MultiInput for Vec<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Future = F;
    type Item = T;
    type Error = E;
    type Output = Vec<T>;
    type Keys = ();

    fn split(self) -> ((), Vec<F>) {
        ((), self)
    }

    fn assemble(_: (), items: Vec<T>) -> Vec<T> {
        items
    }
}

impl<K, F, T, E> MultiInput for HashMap<K, F>
where
    K: Hash + Eq,
    F: Future<Output = Result<T, E>>,
{
    type Future = F;
    type Item = T;
    type Error = E;
    type Output = HashMap<K, T>;
    type Keys = Vec<K>;

    fn split(self) -> (Vec<K>, Vec<F>) {
        self.into_iter().unzip()
    }

    fn assemble(keys: Vec<K>, items: Vec<T>) -> HashMap<K, T> {
        keys.into_iter().zip(items).collect()
    }
}

impl<K, F, T, E> MultiInput for BTreeMap<K, F>
where
    K: Ord,
    F: Future<Output = Result<T, E>>,
{
    type Future = F;
    type Item = T;
    type Error = E;
    type Output = BTreeMap<K, T>;
    type Keys = Vec<K>;

    fn split(self) -> (Vec<K>, Vec<F>) {
        self.into_iter().unzip()
    }

    fn assemble(keys: Vec<K>, items: Vec<T>) -> BTreeMap<K, T> {
        keys.into_iter().zip(items).collect()
    }
}

/// Waits for every future in `children` and gives all the results, or the first error
/// (`tornado.gen.multi`).
///
/// As in Tornado:
/// * all children run concurrently, each polled only when it is woken;
/// * the combined future completes when *every* child has (a failure does not cut the others
///   short);
/// * on failure it gives the error of the first failing child in input order; the errors of
///   later failing children are logged on the `application` target ("Multiple exceptions in
///   yield list"), except cancellations and errors [`quiet`](Multi::quiet) accepts;
/// * an empty input completes at once with an empty collection.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use tornado_gen::multi;
/// use tornado_ioloop::IoLoop;
///
/// let io_loop = IoLoop::new();
/// let (list, map) = io_loop
///     .run_sync(
///         || async {
///             let l = IoLoop::current();
///             let list = multi(vec![l.spawn(async { 1 }), l.spawn(async { 2 })]).await;
///             let mut tasks = HashMap::new();
///             tasks.insert("a", l.spawn(async { 10 }));
///             tasks.insert("b", l.spawn(async { 20 }));
///             (list.unwrap(), multi(tasks).await.unwrap())
///         },
///         None,
///     )
///     .unwrap();
/// assert_eq!(list, [1, 2]);
/// assert_eq!(map["b"], 20);
/// ```
pub fn multi<I: MultiInput>(children: I) -> Multi<I> {
    let (keys, futures) = children.split();
    let n = futures.len();
    Multi {
        children: Unordered::new(futures),
        results: (0..n).map(|_| None).collect(),
        keys: Some(keys),
        quiet: None,
    }
}

/// The future returned by [`multi`].
#[must_use = "futures do nothing unless awaited"]
pub struct Multi<I: MultiInput> {
    children: Unordered<I::Future>,
    results: Vec<Option<Result<I::Item, I::Error>>>,
    keys: Option<I::Keys>,
    quiet: Option<QuietFn<I::Error>>,
}

/// Decides which later errors are not logged.
type QuietFn<E> = Box<dyn Fn(&E) -> bool>;

impl<I: MultiInput> Multi<I> {
    /// Errors for which `quiet` returns `true` are not logged when they are not the first
    /// (Tornado's `quiet_exceptions`).
    pub fn quiet(mut self, quiet: impl Fn(&I::Error) -> bool + 'static) -> Self {
        self.quiet = Some(Box::new(quiet));
        self
    }
}

impl<I> Future for Multi<I>
where
    I: MultiInput,
    I::Error: fmt::Display + 'static,
{
    type Output = Result<I::Output, I::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // No field is structurally pinned (the children are boxed), so `Multi` is `Unpin`.
        let this = self.get_mut();
        loop {
            match this.children.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some((i, r))) => this.results[i] = Some(r),
                Poll::Ready(None) => break,
            }
        }
        let mut items = Vec::with_capacity(this.results.len());
        let mut first_error = None;
        for r in this.results.drain(..) {
            match r {
                Some(Ok(v)) => items.push(v),
                Some(Err(e)) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                    } else if !is_cancellation(&e) && !this.quiet.as_ref().is_some_and(|q| q(&e)) {
                        log::error!(target: "application", "Multiple exceptions in yield list: {e}");
                    }
                }
                None => unreachable!("every child has completed"),
            }
        }
        Poll::Ready(match first_error {
            Some(e) => Err(e),
            None => Ok(I::assemble(
                this.keys.take().expect("Multi polled after completion"),
                items,
            )),
        })
    }
}

impl<I: MultiInput> Unpin for Multi<I> {}

/// Tornado never logs a child's `CancelledError`.
fn is_cancellation<E: 'static>(e: &E) -> bool {
    (e as &dyn Any)
        .downcast_ref::<tornado_concurrent::Error>()
        .is_some_and(|e| e.is_cancelled())
}

impl<I: MultiInput> fmt::Debug for Multi<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multi")
            .field("remaining", &self.children.remaining())
            .finish()
    }
}
