//! Port of `tornado/test/concurrent_test.py`: `MiscFutureTest`, `ChainFutureTest` and
//! `RunOnExecutorTest` (as `submit`, since Rust has no decorators). The `CapServer` tests need
//! a TCP server and live with the tcpserver crate's tests.
//!
//! This crate knows no loop, so the tests await with a minimal thread-parking `block_on`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use tornado_concurrent::{
    Executor, ExecutorExt, Future as TFuture, ThreadPoolExecutor, chain_future,
    future_set_exception_unless_cancelled, future_set_result_unless_cancelled,
};

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park_timeout(Duration::from_secs(5));
    }
}

#[test]
fn test_future_set_result_unless_cancelled() {
    let fut: TFuture<i32> = TFuture::new();
    future_set_result_unless_cancelled(&fut, 42);
    assert_eq!(fut.result().unwrap().unwrap(), 42);
    assert!(!fut.cancelled());

    let fut: TFuture<i32> = TFuture::new();
    fut.cancel();
    future_set_result_unless_cancelled(&fut, 42);
    assert!(fut.cancelled());
}

#[test]
fn future_set_exception_unless_cancelled_logs_instead() {
    let fut: TFuture<i32> = TFuture::new();
    fut.cancel();
    future_set_exception_unless_cancelled(&fut, "lost");
    assert!(fut.cancelled());
    let fut: TFuture<i32> = TFuture::new();
    future_set_exception_unless_cancelled(&fut, "kept");
    assert_eq!(fut.error().unwrap().to_string(), "kept");
}

#[test]
fn test_asyncio_futures() {
    let fut = TFuture::new();
    let fut2 = TFuture::new();
    chain_future(&fut, &fut2);
    fut.set_result(42).unwrap();
    assert_eq!(block_on(fut2).unwrap(), 42);
}

#[test]
fn test_concurrent_futures() {
    // A three-step chain, completed from another thread.
    let fut = TFuture::new();
    let fut2 = TFuture::new();
    let fut3 = TFuture::new();
    chain_future(&fut, &fut2);
    chain_future(&fut2, &fut3);
    let setter = fut.clone();
    let t = thread::spawn(move || setter.set_result(42).unwrap());
    assert_eq!(block_on(fut3).unwrap(), 42);
    t.join().unwrap();
}

#[test]
fn test_cancelled() {
    let fut: TFuture<i32> = TFuture::new();
    let fut2 = TFuture::new();
    chain_future(&fut, &fut2);
    fut.cancel();
    assert!(block_on(fut2.clone()).unwrap_err().is_cancelled());
    assert!(fut2.cancelled());
}

#[test]
fn test_cancelled_concurrent_futures() {
    let fut: TFuture<i32> = TFuture::new();
    let fut2 = TFuture::new();
    let fut3 = TFuture::new();
    chain_future(&fut, &fut2);
    chain_future(&fut2, &fut3);
    fut.cancel();
    assert!(block_on(fut3.clone()).unwrap_err().is_cancelled());
    assert!(fut2.cancelled());
    assert!(fut3.cancelled());
}

#[test]
fn chain_does_not_overwrite_a_done_target() {
    let a = TFuture::new();
    let b = TFuture::new();
    chain_future(&a, &b);
    b.set_result(1).unwrap();
    a.set_result(2).unwrap();
    assert_eq!(b.result().unwrap().unwrap(), 1);
}

#[test]
fn test_no_calling() {
    // RunOnExecutorTest: an object's method run on its own executor.
    struct Object {
        executor: ThreadPoolExecutor,
    }
    impl Object {
        fn f(&self) -> TFuture<i32> {
            self.executor.submit(|| 42)
        }
    }
    let o = Object {
        executor: ThreadPoolExecutor::new(1),
    };
    assert_eq!(block_on(o.f()).unwrap(), 42);
}

#[test]
fn test_call_with_executor() {
    // Any executor, through the trait object.
    let executor: Arc<dyn Executor> = Arc::new(ThreadPoolExecutor::new(1));
    assert_eq!(block_on(executor.submit(|| 42)).unwrap(), 42);
    executor.shutdown(true);
}

#[test]
fn test_async_await() {
    let executor = ThreadPoolExecutor::new(1);
    let f = async { executor.submit(|| 42).await.unwrap() };
    assert_eq!(block_on(f), 42);
}

#[test]
fn take_moves_a_non_clone_result() {
    struct NotClone(u8);
    let executor = ThreadPoolExecutor::new(1);
    let f = executor.submit(|| NotClone(7));
    assert_eq!(block_on(f.take()).unwrap().0, 7);
    assert!(f.try_take().unwrap().is_err());
}

#[test]
fn many_awaiters_on_many_threads() {
    let fut: TFuture<u64> = TFuture::new();
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let f = fut.clone();
            thread::spawn(move || block_on(f).unwrap())
        })
        .collect();
    thread::sleep(Duration::from_millis(10));
    fut.set_result(99).unwrap();
    for w in waiters {
        assert_eq!(w.join().unwrap(), 99);
    }
}
