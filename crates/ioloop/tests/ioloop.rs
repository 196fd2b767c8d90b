//! Port of `tornado/test/ioloop_test.py` (`TestIOLoop`, `TestIOLoopCurrent`,
//! `TestIOLoopFutures`, `TestIOLoopRunSync`, `TestPeriodicCallbackAsync`). The cases the port
//! adds (callbacks from many threads, timer order, 100,000 cancelled timers, cross-thread
//! wake-ups, iteration order) are in `scheduling.rs`.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tornado_concurrent::{DummyExecutor, Executor, Future as SharedFuture, ThreadPoolExecutor};
use tornado_ioloop::{Events, IoLoop, PeriodicCallback};
use tornado_log::{APPLICATION, ExpectLog};

mod support;

use support::{TEST_TIMEOUT, stopper, wait};

#[test]
fn add_callback_wakeup() {
    let io_loop = IoLoop::new();
    let called = Rc::new(Cell::new(false));
    let scheduled_at = Rc::new(Cell::new(Instant::now()));
    let (c, s, l) = (called.clone(), scheduled_at.clone(), io_loop.clone());
    io_loop.add_timeout(io_loop.time(), move || {
        let c2 = c.clone();
        let l2 = l.clone();
        l.add_callback(move || {
            c2.set(true);
            l2.stop();
        });
        s.set(Instant::now());
    });
    wait(&io_loop);
    assert!(called.get());
    assert!(scheduled_at.get().elapsed() < Duration::from_millis(500));
}

#[test]
fn add_callback_wakeup_other_thread() {
    let io_loop = IoLoop::new();
    let handle = io_loop.handle();
    let stop_time = Arc::new(parking_lot::Mutex::new(None));
    let st = stop_time.clone();
    let thread = Rc::new(RefCell::new(None));
    let th = thread.clone();
    io_loop.add_callback(move || {
        *th.borrow_mut() = Some(std::thread::spawn(move || {
            // Let the loop go into its poll first.
            std::thread::sleep(Duration::from_millis(10));
            *st.lock() = Some(Instant::now());
            handle.add_callback(|| IoLoop::current().stop());
        }));
    });
    wait(&io_loop);
    let delta = stop_time.lock().expect("thread ran").elapsed();
    assert!(delta < Duration::from_millis(500), "woke after {delta:?}");
    thread.borrow_mut().take().unwrap().join().unwrap();
}

#[test]
fn add_timeout_timedelta() {
    let io_loop = IoLoop::new();
    io_loop.add_timeout(Duration::from_micros(1), stopper(&io_loop));
    wait(&io_loop);
}

#[test]
fn multiple_add() {
    let io_loop = IoLoop::new();
    let sock = TcpListener::bind("127.0.0.1:0").unwrap();
    let fd = sock.as_raw_fd();
    io_loop.add_handler(fd, |_, _| (), Events::READ).unwrap();
    // Adding a second handler for the same descriptor fails.
    assert!(io_loop.add_handler(fd, |_, _| (), Events::READ).is_err());
    assert!(io_loop.remove_handler(fd));
}

#[test]
fn remove_without_add() {
    let io_loop = IoLoop::new();
    let sock = TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(!io_loop.remove_handler(sock.as_raw_fd()));
}

#[test]
fn add_callback_while_closing() {
    // add_callback from another thread may race with close: callbacks are dropped silently.
    let (tx, rx) = std::sync::mpsc::channel();
    let closing = Arc::new(std::sync::Barrier::new(2));
    let c = closing.clone();
    let thread = std::thread::spawn(move || {
        let other = IoLoop::new();
        tx.send(other.handle()).unwrap();
        other.add_callback(stopper(&other));
        other.start().unwrap();
        c.wait();
        other.close().unwrap();
    });
    let handle = rx.recv().unwrap();
    closing.wait();
    for _ in 0..1000 {
        handle.add_callback(|| ());
    }
    thread.join().unwrap();
    assert!(handle.is_closed());
}

#[test]
fn read_while_writeable() {
    // A handler that asked only for READ does not get WRITE events.
    let io_loop = IoLoop::new();
    let (client, server) = UnixStream::pair().unwrap();
    let server = Rc::new(server);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (s, l) = (seen.clone(), io_loop.clone());
    io_loop
        .add_handler(
            client.as_raw_fd(),
            move |_, events| {
                s.borrow_mut().push(events);
                l.stop();
            },
            Events::READ,
        )
        .unwrap();
    let writer = server.clone();
    io_loop.call_later(Duration::from_millis(10), move || {
        (&*writer).write_all(b"asdf").unwrap();
    });
    wait(&io_loop);
    assert_eq!(*seen.borrow(), vec![Events::READ]);
    io_loop.remove_handler(client.as_raw_fd());
}

#[test]
fn remove_timeout_after_fire() {
    // It is not an error to remove a timeout after it has run.
    let io_loop = IoLoop::new();
    let handle = io_loop.add_timeout(io_loop.time(), stopper(&io_loop));
    wait(&io_loop);
    io_loop.remove_timeout(handle);
}

#[test]
fn remove_timeout_cleanup() {
    // Adding and removing enough timeouts to trigger the heap's compaction.
    let io_loop = IoLoop::new();
    for _ in 0..2000 {
        let t = io_loop.add_timeout(io_loop.time() + Duration::from_secs(3600), || ());
        io_loop.remove_timeout(t);
    }
    assert_eq!(io_loop.pending_timeouts(), 0);
    let l = io_loop.clone();
    io_loop.add_callback(move || l.add_callback(stopper(&l)));
    wait(&io_loop);
}

#[test]
fn remove_timeout_from_timeout() {
    // t2 is cancelled by t1 although both are due when the loop looks at them.
    let io_loop = IoLoop::new();
    let calls = Rc::new(RefCell::new([false, false]));
    let now = io_loop.time();
    let t2_handle = Rc::new(Cell::new(None));
    let (c1, h, l) = (calls.clone(), t2_handle.clone(), io_loop.clone());
    io_loop.add_timeout(now + Duration::from_millis(10), move || {
        c1.borrow_mut()[0] = true;
        l.remove_timeout(h.get().unwrap());
    });
    let c2 = calls.clone();
    t2_handle.set(Some(
        io_loop.add_timeout(now + Duration::from_millis(20), move || {
            c2.borrow_mut()[1] = true
        }),
    ));
    io_loop.add_timeout(now + Duration::from_millis(30), stopper(&io_loop));
    std::thread::sleep(Duration::from_millis(30));
    wait(&io_loop);
    assert_eq!(*calls.borrow(), [true, false]);
}

#[test]
fn timeout_with_arguments() {
    // Every way of adding a timeout runs its callback.
    let io_loop = IoLoop::new();
    let results = Rc::new(RefCell::new(Vec::new()));
    let push = |n: u32| {
        let r = results.clone();
        move || r.borrow_mut().push(n)
    };
    io_loop.add_timeout(io_loop.time(), push(1));
    io_loop.add_timeout(Duration::ZERO, push(2));
    io_loop.call_at(io_loop.time(), push(3));
    io_loop.call_later(Duration::ZERO, push(4));
    io_loop.call_later(Duration::ZERO, stopper(&io_loop));
    wait(&io_loop);
    let mut got = results.borrow().clone();
    got.sort();
    assert_eq!(got, [1, 2, 3, 4]);
}

#[test]
fn add_timeout_return() {
    let io_loop = IoLoop::new();
    let handle = io_loop.add_timeout(io_loop.time(), || ());
    assert_eq!(io_loop.pending_timeouts(), 1);
    io_loop.remove_timeout(handle);
    assert_eq!(io_loop.pending_timeouts(), 0);
}

#[test]
fn call_at_return() {
    let io_loop = IoLoop::new();
    let handle = io_loop.call_at(io_loop.time(), || ());
    io_loop.remove_timeout(handle);
    assert_eq!(io_loop.pending_timeouts(), 0);
}

#[test]
fn call_later_return() {
    let io_loop = IoLoop::new();
    let handle = io_loop.call_later(Duration::ZERO, || ());
    io_loop.remove_timeout(handle);
    assert_eq!(io_loop.pending_timeouts(), 0);
}

/// Records whether it was dropped: a socket wrapper like the test's `SocketWrapper`.
struct SocketWrapper {
    sock: TcpListener,
    closed: Rc<Cell<bool>>,
}

impl AsRawFd for SocketWrapper {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.sock.as_raw_fd()
    }
}

impl Drop for SocketWrapper {
    fn drop(&mut self) {
        self.closed.set(true);
    }
}

#[test]
fn close_file_object() {
    // An owned source given to add_handler is dropped (closed) when the loop closes.
    let closed = Rc::new(Cell::new(false));
    let wrapper = SocketWrapper {
        sock: TcpListener::bind("127.0.0.1:0").unwrap(),
        closed: closed.clone(),
    };
    let io_loop = IoLoop::new();
    io_loop
        .add_handler(wrapper, |_, _| (), Events::READ)
        .unwrap();
    assert!(!closed.get());
    io_loop.close().unwrap();
    assert!(closed.get());
}

#[test]
fn handler_callback_file_object() {
    // The handler gets the descriptor, whether the source was an object or a bare fd.
    let io_loop = IoLoop::new();
    let server = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    server.set_nonblocking(true).unwrap();
    let port = server.local_addr().unwrap().port();
    let fds = Rc::new(RefCell::new(Vec::new()));
    let handler = {
        let (fds, server, l) = (fds.clone(), server.clone(), io_loop.clone());
        move |fd, _| {
            fds.borrow_mut().push(fd);
            drop(server.accept().unwrap());
            l.stop();
        }
    };
    io_loop
        .add_handler(server.clone(), handler.clone(), Events::READ)
        .unwrap();
    let _c1 = TcpStream::connect(("127.0.0.1", port)).unwrap();
    wait(&io_loop);
    assert!(io_loop.remove_handler(server.as_raw_fd()));
    io_loop
        .add_handler(server.as_raw_fd(), handler, Events::READ)
        .unwrap();
    let _c2 = TcpStream::connect(("127.0.0.1", port)).unwrap();
    wait(&io_loop);
    assert_eq!(*fds.borrow(), vec![server.as_raw_fd(); 2]);
    io_loop.remove_handler(server.as_raw_fd());
}

#[test]
fn mixed_fd_fileobj() {
    let io_loop = IoLoop::new();
    let server = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    io_loop
        .add_handler(server.clone(), |_, _| (), Events::READ)
        .unwrap();
    assert!(
        io_loop
            .add_handler(server.as_raw_fd(), |_, _| (), Events::READ)
            .is_err()
    );
    assert!(io_loop.remove_handler(server.as_raw_fd()));
}

#[test]
fn reentrant() {
    // Calling start() from inside the loop is an error, not a deadlock.
    let io_loop = IoLoop::new();
    let got_error = Rc::new(Cell::new(false));
    let (g, l) = (got_error.clone(), io_loop.clone());
    io_loop.add_callback(move || {
        g.set(l.start().is_err());
        l.stop();
    });
    wait(&io_loop);
    assert!(got_error.get());
}

#[test]
fn exception_logging() {
    // Panics in callbacks are logged by the loop, which keeps running.
    let io_loop = IoLoop::new();
    io_loop.add_callback(|| panic!("1 / 0"));
    io_loop.add_callback(stopper(&io_loop));
    let expect = ExpectLog::new(APPLICATION, "Exception in callback");
    wait(&io_loop);
    assert_eq!(expect.matched(), 1);
}

#[test]
fn exception_logging_future() {
    // A panic in a spawned future is logged.
    let io_loop = IoLoop::new();
    let l = io_loop.clone();
    io_loop.add_callback(move || {
        l.spawn_callback(async move {
            IoLoop::current().add_callback(|| IoLoop::current().stop());
            panic!("1 / 0");
        })
    });
    let _expect = ExpectLog::new(APPLICATION, "Exception in task");
    wait(&io_loop);
}

#[test]
fn exception_logging_native_coro() {
    // A panic in a task whose handle was dropped is logged.
    let io_loop = IoLoop::new();
    let l = io_loop.clone();
    io_loop.add_callback(move || {
        drop(l.spawn(async move {
            let l = IoLoop::current();
            let l2 = l.clone();
            l.add_callback(move || l2.add_callback(|| IoLoop::current().stop()));
            panic!("1 / 0");
        }))
    });
    let _expect = ExpectLog::new(APPLICATION, "Exception in task");
    wait(&io_loop);
}

#[test]
fn spawn_callback() {
    let io_loop = IoLoop::new();
    io_loop.add_callback(|| panic!("1 / 0"));
    io_loop.add_callback(stopper(&io_loop));
    {
        let _expect = ExpectLog::new(APPLICATION, "Exception in callback");
        wait(&io_loop);
    }
    io_loop.spawn_callback(async { panic!("1 / 0") });
    io_loop.add_callback(stopper(&io_loop));
    let _expect = ExpectLog::new(APPLICATION, "Exception in task");
    wait(&io_loop);
}

#[test]
fn remove_handler_from_handler() {
    // Two descriptors ready at once; the first handler removes the other, which then never
    // runs.
    let io_loop = IoLoop::new();
    let (client, server) = UnixStream::pair().unwrap();
    (&client).write_all(b"abc").unwrap();
    (&server).write_all(b"abc").unwrap();
    let client = Rc::new(client);
    let server = Rc::new(server);
    let chunks = Rc::new(RefCell::new(Vec::new()));
    for (me, other) in [
        (client.clone(), server.clone()),
        (server.clone(), client.clone()),
    ] {
        let (chunks, l) = (chunks.clone(), io_loop.clone());
        let other_fd = other.as_raw_fd();
        let me2 = me.clone();
        io_loop
            .add_handler(
                me,
                move |_, _| {
                    let mut buf = [0; 1024];
                    let n = (&*me2).read(&mut buf).unwrap();
                    chunks.borrow_mut().push(buf[..n].to_vec());
                    l.remove_handler(other_fd);
                },
                Events::READ,
            )
            .unwrap();
    }
    io_loop.call_later(Duration::from_millis(100), stopper(&io_loop));
    wait(&io_loop);
    assert_eq!(*chunks.borrow(), vec![b"abc".to_vec()]);
}

#[test]
fn init_close_race() {
    // Loops created and closed on several threads at once (regression test for #2367).
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(
            || async {
                let l = IoLoop::current();
                let futs: Vec<_> = (0..2)
                    .map(|_| {
                        l.run_in_executor(None, || {
                            for _ in 0..10 {
                                IoLoop::new().close().unwrap();
                            }
                        })
                    })
                    .collect();
                for f in futs {
                    f.await.unwrap();
                }
            },
            Some(TEST_TIMEOUT),
        )
        .unwrap();
}

#[test]
fn non_current() {
    // TestIOLoopCurrent.test_non_current: a new loop is current only while it runs.
    std::thread::spawn(|| {
        assert!(IoLoop::try_current().is_none());
        let io_loop = IoLoop::new();
        assert!(IoLoop::try_current().is_none());
        let l = io_loop.clone();
        let seen = Rc::new(Cell::new(false));
        let s = seen.clone();
        io_loop.add_callback(move || {
            s.set(IoLoop::current() == l);
            l.stop();
        });
        io_loop.start().unwrap();
        assert!(seen.get());
        assert!(IoLoop::try_current().is_none());
        // current() makes (and keeps) one when there is none.
        let a = IoLoop::current();
        assert_eq!(IoLoop::current(), a);
        a.close().unwrap();
        assert!(IoLoop::try_current().is_none());
    })
    .join()
    .unwrap();
}

#[test]
fn add_future_threads() {
    // TestIOLoopFutures.test_add_future_threads: futures completed on other threads.
    let io_loop = IoLoop::new();
    let pool = ThreadPoolExecutor::new(1);
    let event = Arc::new(std::sync::Barrier::new(2));
    let e = event.clone();
    let fut = pool_submit(&pool, move || {
        e.wait();
        42
    });
    let result = Rc::new(Cell::new(0));
    let (r, l) = (result.clone(), io_loop.clone());
    io_loop.add_future(fut, move |v| {
        r.set(v.unwrap());
        l.stop();
    });
    event.wait();
    wait(&io_loop);
    assert_eq!(result.get(), 42);
}

fn pool_submit<R: Send + 'static>(
    pool: &dyn Executor,
    f: impl FnOnce() -> R + Send + 'static,
) -> SharedFuture<R> {
    tornado_concurrent::ExecutorExt::submit(pool, f)
}

#[test]
fn run_in_executor_native() {
    // Two blocking jobs, each waiting for the other's event: they must run in parallel.
    let io_loop = IoLoop::new();
    let got = io_loop
        .run_sync(
            || async {
                let l = IoLoop::current();
                let a = Arc::new(std::sync::Barrier::new(2));
                let b = a.clone();
                let f1 = l.run_in_executor(None, move || {
                    a.wait();
                    1
                });
                let f2 = l.run_in_executor(None, move || {
                    b.wait();
                    2
                });
                (f1.await.unwrap(), f2.await.unwrap())
            },
            Some(TEST_TIMEOUT),
        )
        .unwrap();
    assert_eq!(got, (1, 2));
}

#[test]
fn set_default_executor() {
    #[derive(Debug)]
    struct MyExecutor {
        called: Arc<AtomicBool>,
    }
    impl Executor for MyExecutor {
        fn execute(
            &self,
            job: tornado_concurrent::Job,
        ) -> Result<(), tornado_concurrent::ShutdownError> {
            self.called.store(true, Ordering::SeqCst);
            DummyExecutor.execute(job)
        }
        fn shutdown(&self, _wait: bool) {}
    }
    let called = Arc::new(AtomicBool::new(false));
    let io_loop = IoLoop::new();
    io_loop.set_default_executor(Arc::new(MyExecutor {
        called: called.clone(),
    }));
    let v = io_loop
        .run_sync(
            || async { IoLoop::current().run_in_executor(None, || 7).await.unwrap() },
            None,
        )
        .unwrap();
    assert_eq!(v, 7);
    assert!(called.load(Ordering::SeqCst));
}

#[test]
fn sync_result() {
    let io_loop = IoLoop::new();
    assert_eq!(io_loop.run_sync(|| async { 42 }, None).unwrap(), 42);
}

#[test]
fn sync_exception() {
    let io_loop = IoLoop::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        io_loop.run_sync(|| -> std::future::Ready<()> { panic!("1 / 0") }, None)
    }));
    assert!(caught.is_err());
}

#[test]
fn async_result() {
    let io_loop = IoLoop::new();
    let v = io_loop
        .run_sync(
            || async {
                tornado_ioloop::spawn(async {}).await.unwrap();
                IoLoop::current().sleep(Duration::ZERO).await;
                42
            },
            None,
        )
        .unwrap();
    assert_eq!(v, 42);
}

#[test]
fn async_exception() {
    // A panic in the future is resumed on run_sync's caller; the loop stays usable.
    let io_loop = IoLoop::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        io_loop.run_sync(
            || async {
                IoLoop::current().sleep(Duration::ZERO).await;
                panic!("1 / 0");
            },
            None,
        )
    }));
    let payload = caught.unwrap_err();
    assert_eq!(tornado_concurrent::panic_message(payload.as_ref()), "1 / 0");
    assert_eq!(io_loop.run_sync(|| async { 1 }, None).unwrap(), 1);
}

#[test]
fn current() {
    let io_loop = IoLoop::new();
    let l = io_loop.clone();
    io_loop
        .run_sync(
            move || {
                assert_eq!(IoLoop::current(), l);
                async {}
            },
            None,
        )
        .unwrap();
}

#[test]
fn timeout() {
    // The future is cancelled (dropped) at the timeout.
    let io_loop = IoLoop::new();
    let dropped = Rc::new(Cell::new(false));
    struct OnDrop(Rc<Cell<bool>>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let guard = OnDrop(dropped.clone());
    let err = io_loop
        .run_sync(
            move || async move {
                let _guard = guard;
                IoLoop::current().sleep(Duration::from_secs(1)).await;
            },
            Some(Duration::from_millis(10)),
        )
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(dropped.get());
}

#[test]
fn native_coroutine() {
    let io_loop = IoLoop::new();
    let v = io_loop
        .run_sync(
            || async {
                let inner = async { 1 };
                inner.await + 1
            },
            None,
        )
        .unwrap();
    assert_eq!(v, 2);
}

#[test]
fn stop_no_timeout() {
    let io_loop = IoLoop::new();
    let err = io_loop
        .run_sync(
            || async {
                let l = IoLoop::current();
                l.sleep(Duration::from_millis(10)).await;
                l.stop();
                l.sleep(Duration::from_secs(10)).await;
            },
            None,
        )
        .unwrap_err();
    assert!(err.is_stopped());
}

#[test]
fn periodic_plain() {
    let io_loop = IoLoop::new();
    let count = Rc::new(Cell::new(0));
    let (c, l) = (count.clone(), io_loop.clone());
    io_loop.add_callback(move || {
        let pc = PeriodicCallback::new(
            move || {
                c.set(c.get() + 1);
                if c.get() == 3 {
                    l.stop();
                }
            },
            Duration::from_millis(10),
        );
        pc.start();
        // Keep running until stopped below; dropping the handle does not stop it.
        IoLoop::current().add_callback(move || drop(pc));
    });
    wait(&io_loop);
    assert_eq!(count.get(), 3);
    io_loop.close().unwrap();
}

#[test]
fn periodic_async() {
    // Calls of an async callback never overlap: each call sleeps longer than the period.
    let io_loop = IoLoop::new();
    let counts = Rc::new(RefCell::new([0, 0]));
    let pc_slot: Rc<RefCell<Option<PeriodicCallback>>> = Rc::new(RefCell::new(None));
    let (c, slot) = (counts.clone(), pc_slot.clone());
    let pc = PeriodicCallback::new_async(
        move || {
            let (c, slot) = (c.clone(), slot.clone());
            async move {
                c.borrow_mut()[0] += 1;
                IoLoop::current().sleep(Duration::from_millis(25)).await;
                c.borrow_mut()[1] += 1;
                if c.borrow()[1] == 3 {
                    slot.borrow().as_ref().unwrap().stop();
                    IoLoop::current().add_callback(|| IoLoop::current().stop());
                }
            }
        },
        Duration::from_millis(10),
    );
    *pc_slot.borrow_mut() = Some(pc.clone());
    io_loop.add_callback(move || pc.start());
    wait(&io_loop);
    assert_eq!(*counts.borrow(), [3, 3]);
    pc_slot.borrow_mut().take();
}

#[test]
fn periodic_survives_panics() {
    let io_loop = IoLoop::new();
    let count = Rc::new(Cell::new(0));
    let (c, l) = (count.clone(), io_loop.clone());
    let pc = PeriodicCallback::new(
        move || {
            c.set(c.get() + 1);
            if c.get() == 3 {
                l.stop();
            }
            panic!("tick");
        },
        Duration::from_millis(5),
    );
    let p = pc.clone();
    io_loop.add_callback(move || p.start());
    let expect = ExpectLog::new(APPLICATION, "Exception in periodic callback");
    wait(&io_loop);
    pc.stop();
    assert!(!pc.is_running());
    assert_eq!(expect.matched(), 3);
}
