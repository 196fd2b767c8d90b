//! Port of `tornado/test/gen_test.py`: `GenBasicTest` (multi), `GenCoroutineTest` (moment,
//! sleep, cancellation), `WithTimeoutTest`, `WaitIteratorTest`, `RunnerGCTest`.
//!
//! Tests of the generator-based API (`@gen.coroutine`, `gen.Return`, bad yields) have no
//! Rust counterpart: `async` blocks replace them.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use tornado_concurrent::{
    Error as FutureError, ExecutorExt, Future as SharedFuture, ThreadPoolExecutor,
};
use tornado_gen::{WaitIterator, moment, multi, sleep, with_timeout};
use tornado_ioloop::IoLoop;
use tornado_log::{APPLICATION, ExpectLog};

/// `@gen_test`: run on a fresh loop, failing after 5 seconds.
fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(5)))
        .expect("test finished in time");
    io_loop.close().unwrap();
}

#[derive(Debug, Clone, PartialEq)]
struct RuntimeError(&'static str);

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RuntimeError {}

type BoxFut<T, E> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

/// Returns `arg` after a number of loop iterations.
fn delay<T: 'static>(iterations: usize, arg: T) -> BoxFut<T, RuntimeError> {
    Box::pin(async move {
        for _ in 0..iterations {
            moment().await;
        }
        Ok(arg)
    })
}

fn async_future<T: 'static, E: 'static>(result: T) -> BoxFut<T, E> {
    Box::pin(async move {
        moment().await;
        Ok(result)
    })
}

fn async_exception<T: 'static>(e: RuntimeError) -> BoxFut<T, RuntimeError> {
    Box::pin(async move {
        moment().await;
        Err(e)
    })
}

fn add_one_async(x: i32) -> BoxFut<i32, RuntimeError> {
    Box::pin(async move {
        moment().await;
        Ok(x + 1)
    })
}

#[test]
fn test_multi() {
    gen_test(|| async {
        let results = multi(vec![add_one_async(1), add_one_async(2)]).await;
        assert_eq!(results, Ok(vec![2, 3]));
    });
}

#[test]
fn test_multi_dict() {
    gen_test(|| async {
        let mut d = HashMap::new();
        d.insert("foo", add_one_async(1));
        d.insert("bar", add_one_async(2));
        let results = multi(d).await.unwrap();
        assert_eq!(results, HashMap::from([("foo", 2), ("bar", 3)]));
    });
}

#[test]
fn test_multi_delayed() {
    gen_test(|| async {
        let responses = multi(vec![delay(3, "v1"), delay(1, "v2")]).await;
        assert_eq!(responses, Ok(vec!["v1", "v2"]));
    });
}

#[test]
fn test_multi_dict_delayed() {
    gen_test(|| async {
        let d = BTreeMap::from([("foo", delay(3, "v1")), ("bar", delay(1, "v2"))]);
        let responses = multi(d).await.unwrap();
        assert_eq!(responses, BTreeMap::from([("foo", "v1"), ("bar", "v2")]));
    });
}

#[test]
fn test_multi_performance() {
    // Waiting for a large list stays linear: 2000 moments well within a second.
    gen_test(|| async {
        let start = Instant::now();
        let children: Vec<_> = (0..2000)
            .map(|_| async {
                moment().await;
                Ok::<_, RuntimeError>(())
            })
            .collect();
        multi(children).await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
    });
}

#[test]
fn test_multi_empty() {
    gen_test(|| async {
        let x: Vec<u8> = multi(Vec::<BoxFut<u8, RuntimeError>>::new()).await.unwrap();
        assert!(x.is_empty());
        let y: HashMap<u8, u8> = multi(HashMap::<u8, BoxFut<u8, RuntimeError>>::new())
            .await
            .unwrap();
        assert!(y.is_empty());
    });
}

#[test]
fn test_future() {
    gen_test(|| async {
        let result = async_future::<_, RuntimeError>(1).await;
        assert_eq!(result, Ok(1));
    });
}

#[test]
fn test_multi_future() {
    gen_test(|| async {
        let results = multi(vec![async_future::<_, RuntimeError>(1), async_future(2)]).await;
        assert_eq!(results, Ok(vec![1, 2]));
    });
}

#[test]
fn test_multi_future_duplicate() {
    // The same shared future twice: both places get its result.
    gen_test(|| async {
        let f = SharedFuture::new();
        let setter = f.clone();
        IoLoop::current().add_callback(move || setter.set_result(2).unwrap());
        let results = multi(vec![
            Box::pin(SharedFuture::resolved(1)) as BoxFut<i32, FutureError>,
            Box::pin(f.clone()),
            Box::pin(SharedFuture::resolved(3)),
            Box::pin(f),
        ])
        .await
        .unwrap();
        assert_eq!(results, [1, 2, 3, 2]);
    });
}

#[test]
fn test_multi_dict_future() {
    gen_test(|| async {
        let d = HashMap::from([
            ("foo", async_future::<_, RuntimeError>(1)),
            ("bar", async_future(2)),
        ]);
        assert_eq!(
            multi(d).await.unwrap(),
            HashMap::from([("foo", 1), ("bar", 2)])
        );
    });
}

#[test]
fn test_multi_exceptions() {
    gen_test(|| async {
        {
            let _expected = ExpectLog::new(APPLICATION, "Multiple exceptions in yield list");
            let err = multi(vec![
                async_exception::<()>(RuntimeError("error 1")),
                async_exception(RuntimeError("error 2")),
            ])
            .await
            .unwrap_err();
            assert_eq!(err.to_string(), "error 1");
        }
        // With only one exception, no error is logged.
        let err = multi(vec![
            async_exception(RuntimeError("error 1")),
            async_future(2),
        ])
        .await
        .unwrap_err();
        assert_eq!(err, RuntimeError("error 1"));
    });
}

#[test]
fn test_multi_cancelled() {
    // As with asyncio.gather, a cancelled child makes multi fail with the cancellation.
    gen_test(|| async {
        let l = IoLoop::current();
        let fut: SharedFuture<i32> = SharedFuture::new();
        let c = fut.clone();
        l.add_callback(move || {
            c.cancel();
        });
        let err = multi(vec![
            Box::pin(fut) as BoxFut<i32, FutureError>,
            async_future(2),
        ])
        .await
        .unwrap_err();
        assert!(err.is_cancelled());

        // A child that is already cancelled.
        let fut: SharedFuture<i32> = SharedFuture::new();
        fut.cancel();
        assert!(multi(vec![fut]).await.unwrap_err().is_cancelled());

        // A cancellation after the first error is not logged (no ExpectLog here: a log
        // record would be printed, and the first error is the one returned).
        let fut: SharedFuture<i32> = SharedFuture::new();
        let c = fut.clone();
        l.add_callback(move || {
            c.cancel();
        });
        let first: BoxFut<i32, FutureError> = Box::pin(async {
            moment().await;
            Err(FutureError::new(RuntimeError("error 1")))
        });
        let err = multi(vec![first, Box::pin(fut)]).await.unwrap_err();
        assert_eq!(err.to_string(), "error 1");

        // Logging may be quieted explicitly.
        let err = multi(vec![
            async_exception::<()>(RuntimeError("error 1")),
            async_exception(RuntimeError("error 2")),
        ])
        .quiet(|_| true)
        .await
        .unwrap_err();
        assert_eq!(err, RuntimeError("error 1"));
    });
}

#[test]
fn test_multi_future_exceptions() {
    gen_test(|| async {
        let l = IoLoop::current();
        let tasks = vec![
            l.spawn(async {
                moment().await;
                panic!("error 1")
            }),
            l.spawn(async {
                moment().await;
                panic!("error 2")
            }),
        ];
        let _expected = ExpectLog::new(APPLICATION, "Multiple exceptions in yield list");
        let err: FutureError = multi::<Vec<tornado_ioloop::Task<()>>>(tasks)
            .await
            .unwrap_err();
        assert_eq!(err.panic_message(), Some("error 1"));
    });
}

#[test]
fn test_async_await() {
    gen_test(|| async {
        async fn f1() -> i32 {
            moment().await;
            42
        }
        async fn f2() -> i32 {
            f1().await + 1
        }
        assert_eq!(f2().await, 43);
    });
}

#[test]
fn test_asyncio_sleep_zero() {
    // sleep(0) yields to other tasks.
    gen_test(|| async {
        let counter = Rc::new(RefCell::new(0));
        let c = counter.clone();
        let l = IoLoop::current();
        let t = l.spawn(async move {
            for _ in 0..5 {
                *c.borrow_mut() += 1;
                sleep(Duration::ZERO).await;
            }
        });
        for _ in 0..2 {
            sleep(Duration::ZERO).await;
        }
        // The other task made progress while this one slept.
        assert!(*counter.borrow() >= 1 && *counter.borrow() < 5);
        t.await.unwrap();
        assert_eq!(*counter.borrow(), 5);
    });
}

#[test]
fn test_async_await_mixed_multi_native_future() {
    gen_test(|| async {
        let l = IoLoop::current();
        let shared = SharedFuture::new();
        let s = shared.clone();
        l.add_callback(move || s.set_result(2).unwrap());
        let task = l.spawn(async {
            moment().await;
            1
        });
        let children: Vec<BoxFut<i32, FutureError>> = vec![Box::pin(task), Box::pin(shared)];
        assert_eq!(multi(children).await.unwrap(), [1, 2]);
    });
}

#[test]
fn test_async_with_timeout() {
    gen_test(|| async {
        let v = with_timeout(Duration::from_secs(3600), async {
            moment().await;
            42
        })
        .await;
        assert_eq!(v, Ok(42));
    });
}

#[test]
fn test_yield_cancelled_future() {
    gen_test(|| async {
        // Cancelled before the coroutine starts.
        let fut: SharedFuture<()> = SharedFuture::new();
        fut.cancel();
        let task = IoLoop::current().spawn(fut.clone());
        assert!(task.await.unwrap().unwrap_err().is_cancelled());
        // Cancelled while the coroutine waits on it.
        let fut: SharedFuture<()> = SharedFuture::new();
        let c = fut.clone();
        IoLoop::current().add_callback(move || {
            c.cancel();
        });
        assert!(fut.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn test_catch_cancelled_future() {
    gen_test(|| async {
        let f = async {
            let fut: SharedFuture<()> = SharedFuture::new();
            let c = fut.clone();
            IoLoop::current().add_callback(move || {
                c.cancel();
            });
            if let Err(e) = fut.await {
                assert!(e.is_cancelled());
            }
            moment().await;
            42
        };
        assert_eq!(f.await, 42);
    });
}

#[test]
fn test_moment() {
    gen_test(|| async {
        let calls = Rc::new(RefCell::new(String::new()));
        fn f(
            calls: &Rc<RefCell<String>>,
            name: char,
            use_moment: bool,
        ) -> BoxFut<(), RuntimeError> {
            let calls = calls.clone();
            Box::pin(async move {
                for _ in 0..5 {
                    calls.borrow_mut().push(name);
                    if use_moment {
                        moment().await;
                    } else {
                        std::future::ready(()).await;
                    }
                }
                Ok(())
            })
        }
        // Without moment, each coroutine runs to its end at once.
        multi(vec![f(&calls, 'a', false), f(&calls, 'b', false)])
            .await
            .unwrap();
        assert_eq!(*calls.borrow(), "aaaaabbbbb");
        // With moment, they take turns.
        calls.borrow_mut().clear();
        multi(vec![f(&calls, 'a', true), f(&calls, 'b', true)])
            .await
            .unwrap();
        assert_eq!(*calls.borrow(), "ababababab");
        calls.borrow_mut().clear();
        multi(vec![f(&calls, 'a', true), f(&calls, 'b', false)])
            .await
            .unwrap();
        assert_eq!(*calls.borrow(), "abbbbbaaaa");
    });
}

#[test]
fn test_sleep() {
    gen_test(|| async {
        let start = Instant::now();
        sleep(Duration::from_millis(10)).await;
        assert!(start.elapsed() >= Duration::from_millis(10));
    });
}

// WithTimeoutTest

#[test]
fn test_timeout() {
    gen_test(|| async {
        let never: SharedFuture<()> = SharedFuture::new();
        let err = with_timeout(Duration::from_millis(100), never)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "Timeout");
    });
}

#[test]
fn test_timeout_message() {
    gen_test(|| async {
        let never: SharedFuture<()> = SharedFuture::new();
        let err = with_timeout(Duration::from_millis(100), never)
            .message("custom")
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "custom");
    });
}

#[test]
fn test_timeout_message_callable() {
    gen_test(|| async {
        let never: SharedFuture<()> = SharedFuture::new();
        let err = with_timeout(Duration::from_millis(100), never)
            .message_with(|| "lazy".to_owned())
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "lazy");
    });
}

#[test]
fn test_timeout_message_callable_not_called_on_success() {
    gen_test(|| async {
        let r = with_timeout(Duration::from_secs(3600), SharedFuture::resolved("asdf"))
            .message_with(|| panic!("should not be called"))
            .await;
        assert_eq!(r.unwrap().unwrap(), "asdf");
    });
}

#[test]
fn test_completes_before_timeout() {
    gen_test(|| async {
        let future = SharedFuture::new();
        let f = future.clone();
        IoLoop::current().add_timeout(Duration::from_millis(100), move || {
            f.set_result("asdf").unwrap()
        });
        let r = with_timeout(Duration::from_secs(3600), future).await;
        assert_eq!(r.unwrap().unwrap(), "asdf");
    });
}

#[test]
fn test_fails_before_timeout() {
    gen_test(|| async {
        let future: SharedFuture<()> = SharedFuture::new();
        let f = future.clone();
        IoLoop::current().add_timeout(Duration::from_millis(100), move || {
            f.set_exception(RuntimeError("zero division")).unwrap()
        });
        let r = with_timeout(Duration::from_secs(3600), future).await;
        let err = r.expect("not a timeout").unwrap_err();
        assert!(err.downcast_ref::<RuntimeError>().is_some());
    });
}

#[test]
fn test_cancelled_before_timeout() {
    gen_test(|| async {
        let future: SharedFuture<()> = SharedFuture::new();
        let f = future.clone();
        IoLoop::current().add_timeout(Duration::from_millis(100), move || {
            f.cancel();
        });
        let r = with_timeout(Duration::from_secs(3600), future).await;
        assert!(r.expect("not a timeout").unwrap_err().is_cancelled());
    });
}

#[test]
fn test_already_resolved() {
    gen_test(|| async {
        let r = with_timeout(Duration::ZERO, SharedFuture::resolved("asdf")).await;
        assert_eq!(r.unwrap().unwrap(), "asdf");
    });
}

#[test]
fn test_timeout_concurrent_future() {
    // A future from an executor that does not resolve before the deadline; the job goes on.
    gen_test(|| async {
        let pool = ThreadPoolExecutor::new(1);
        let job = pool.submit(|| std::thread::sleep(Duration::from_millis(200)));
        let r = with_timeout(IoLoop::current().time(), job.clone()).await;
        assert!(r.is_err());
        assert!(job.await.is_ok(), "the job was not cancelled");
    });
}

#[test]
fn test_completed_concurrent_future() {
    gen_test(|| async {
        let pool = ThreadPoolExecutor::new(1);
        let f = pool.submit(|| ());
        while !f.done() {
            std::thread::sleep(Duration::from_millis(1));
        }
        with_timeout(Duration::from_secs(3600), f)
            .await
            .unwrap()
            .unwrap();
    });
}

#[test]
fn test_normal_concurrent_future() {
    gen_test(|| async {
        let pool = ThreadPoolExecutor::new(1);
        let f = pool.submit(|| std::thread::sleep(Duration::from_millis(10)));
        with_timeout(Duration::from_secs(3600), f)
            .await
            .unwrap()
            .unwrap();
    });
}

#[test]
fn with_timeout_keeps_a_borrowed_future() {
    // With `&mut fut` the caller keeps the future after a timeout and awaits it again.
    gen_test(|| async {
        let mut fut = Box::pin(async {
            sleep(Duration::from_millis(30)).await;
            5
        });
        assert!(
            with_timeout(Duration::from_millis(1), &mut fut)
                .await
                .is_err()
        );
        assert_eq!(fut.await, 5);
    });
}

// WaitIteratorTest

#[test]
fn test_empty_iterator() {
    gen_test(|| async {
        let mut g = WaitIterator::new(Vec::<SharedFuture<()>>::new());
        assert!(g.done(), "empty generator iterated");
        assert!(g.current_index().is_none());
        assert!(g.next().await.is_none());
    });
}

#[test]
fn test_already_done() {
    gen_test(|| async {
        let f1 = SharedFuture::resolved(24);
        let f2 = SharedFuture::resolved(42);
        let f3 = SharedFuture::resolved(84);
        let mut g = WaitIterator::new(vec![f1.clone(), f2.clone(), f3.clone()]);
        let mut i = 0;
        while !g.done() {
            let r = g.next().await.unwrap().unwrap();
            // Already-done futures come out in input order.
            assert_eq!(*g.current_index().unwrap(), i);
            assert_eq!(r, [24, 42, 84][i]);
            i += 1;
        }
        assert!(g.current_index().is_none());

        let mut dg = WaitIterator::from_keyed(vec![("f1", f1), ("f2", f2)]);
        while !dg.done() {
            let dr = dg.next().await.unwrap().unwrap();
            match *dg.current_index().unwrap() {
                "f1" => assert_eq!(dr, 24),
                "f2" => assert_eq!(dr, 42),
                other => panic!("got bad WaitIterator index {other}"),
            }
        }
        assert!(dg.current_index().is_none());
    });
}

#[test]
fn test_duplicate_futures() {
    gen_test(|| async {
        let future = SharedFuture::resolved(42);
        let mut it = WaitIterator::new(vec![future.clone(), future.clone(), future.clone()]);
        let (mut results, mut indices) = (vec![], vec![]);
        while !it.done() {
            results.push(it.next().await.unwrap().unwrap());
            indices.push(*it.current_index().unwrap());
        }
        assert_eq!(results, [42; 3]);
        assert_eq!(indices, [0, 1, 2]);

        let mut it = WaitIterator::from_keyed(vec![("first", future.clone()), ("second", future)]);
        let mut indices = vec![];
        while !it.done() {
            assert_eq!(it.next().await.unwrap().unwrap(), 42);
            indices.push(*it.current_index().unwrap());
        }
        assert_eq!(indices, ["first", "second"]);
    });
}

/// Completes the futures over several loop iterations, like `finish_coroutines`.
fn finish_coroutines(iteration: u32, futures: Rc<Vec<SharedFuture<i32>>>) {
    match iteration {
        3 => futures[2].set_result(24).unwrap(),
        5 => futures[0]
            .set_exception(RuntimeError("zero division"))
            .unwrap(),
        8 => {
            futures[1].set_result(42).unwrap();
            futures[3].set_result(84).unwrap();
        }
        _ => {}
    }
    if iteration < 8 {
        IoLoop::current().add_callback(move || finish_coroutines(iteration + 1, futures));
    }
}

#[test]
fn test_iterator() {
    gen_test(|| async {
        let futures: Rc<Vec<SharedFuture<i32>>> =
            Rc::new((0..4).map(|_| SharedFuture::new()).collect());
        finish_coroutines(0, futures.clone());
        let mut g = WaitIterator::new(futures.iter().cloned().collect::<Vec<_>>());
        let mut i = 0;
        while !g.done() {
            match g.next().await.unwrap() {
                Err(e) => {
                    assert!(e.downcast_ref::<RuntimeError>().is_some());
                    assert_eq!(*g.current_index().unwrap(), 0, "exception future invalid");
                }
                Ok(r) => match i {
                    0 => {
                        assert_eq!(r, 24, "iterator value incorrect");
                        assert_eq!(*g.current_index().unwrap(), 2, "wrong index");
                    }
                    2 => {
                        assert_eq!(r, 42);
                        assert_eq!(*g.current_index().unwrap(), 1);
                    }
                    3 => {
                        assert_eq!(r, 84);
                        assert_eq!(*g.current_index().unwrap(), 3);
                    }
                    _ => panic!("unexpected iteration {i}"),
                },
            }
            i += 1;
        }
        assert_eq!(i, 4);
    });
}

#[test]
fn test_no_ref() {
    // The future returned by next() works with no other reference to the iterator kept.
    gen_test(|| async {
        let next = async {
            let mut it = WaitIterator::new(vec![sleep(Duration::ZERO)]);
            it.next().await
        };
        with_timeout(Duration::from_millis(100), next)
            .await
            .unwrap()
            .unwrap();
    });
}

#[test]
fn wait_iterator_drops_finished_futures() {
    struct Tracked(#[allow(dead_code)] Rc<()>);
    gen_test(|| async {
        let marker = Rc::new(());
        let weak: Weak<()> = Rc::downgrade(&marker);
        let tracked = Tracked(marker);
        let mut it = WaitIterator::new(vec![Box::pin(async move {
            let _keep = tracked;
            moment().await;
        })]);
        assert!(weak.upgrade().is_some());
        it.next().await.unwrap();
        assert!(
            weak.upgrade().is_none(),
            "no reference to a finished future is kept"
        );
    });
}

// RunnerGCTest

#[test]
fn test_gc() {
    // A task waiting on a future that only the callback will complete is not lost.
    gen_test(|| async {
        let fut = SharedFuture::new();
        let f = fut.clone();
        IoLoop::current().add_callback(move || f.set_result(123).unwrap());
        let tester = IoLoop::current().spawn(fut);
        let r = with_timeout(Duration::from_millis(200), tester).await;
        assert_eq!(r.unwrap().unwrap().unwrap(), 123);
    });
}

#[test]
fn test_gc_infinite_coro() {
    // Suspended tasks are dropped when their loop is closed, even in a reference cycle.
    let io_loop = IoLoop::new();
    let marker = Rc::new(());
    let weak = Rc::downgrade(&marker);
    let l = io_loop.clone();
    io_loop.spawn_callback(async move {
        let _keep = marker;
        let _cycle = l; // the task holds its own loop
        loop {
            sleep(Duration::from_millis(1)).await;
        }
    });
    io_loop
        .run_sync(|| sleep(Duration::from_millis(10)), None)
        .unwrap();
    assert!(weak.upgrade().is_some());
    io_loop.close().unwrap();
    assert!(weak.upgrade().is_none());
}

#[test]
fn test_multi_moment() {
    // multi over moments yields to the loop once.
    gen_test(|| async {
        let futs: Vec<_> = (0..3)
            .map(|_| async {
                moment().await;
                Ok::<(), RuntimeError>(())
            })
            .collect();
        multi(futs).await.unwrap();
    });
}
