//! [`IoLoop`]: Tornado's `IOLoop`, one per thread.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tornado_concurrent::{Executor, ExecutorExt, Future as SharedFuture, ThreadPoolExecutor};

use crate::core::{Core, LoopState, Runnable};
use crate::error::Error;
use crate::handle::IoLoopHandle;
use crate::io::{Events, owner_fd};
use crate::sleep::Sleep;
use crate::task::{Failure, Task};
use crate::timers::{Deadline, TimeoutHandle, TimerAction};

thread_local! {
    /// What `IoLoop::current()` returns on this thread.
    static CURRENT: RefCell<Option<IoLoop>> = const { RefCell::new(None) };
}

/// A single-threaded event loop: Tornado's `IOLoop`.
///
/// An `IoLoop` runs callbacks, timers, tasks (`async` code, which need not be `Send`) and
/// I/O handlers, all on the thread that runs it. `IoLoop` is a cheap handle (`Clone`); all
/// clones are the same loop. It is `!Send` on purpose, like Tornado's, whose only thread-safe
/// method is `add_callback`: other threads get an [`IoLoopHandle`] from
/// [`handle`](IoLoop::handle).
///
/// What one iteration does, and in which order, is described in `docs/ARCHITECTURE.md`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
///
/// let io_loop = IoLoop::new();
/// let answer = io_loop
///     .run_sync(
///         || async {
///             IoLoop::current().sleep(Duration::from_millis(1)).await;
///             42
///         },
///         Some(Duration::from_secs(5)),
///     )
///     .unwrap();
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct IoLoop {
    /// `Rc` makes the loop `!Send` and `!Sync`: it must only be used on its own thread.
    pub(crate) core: Rc<Core>,
}

/// Makes a loop the thread's current one until dropped.
struct CurrentGuard {
    prev: Option<IoLoop>,
}

impl CurrentGuard {
    fn enter(io_loop: &IoLoop) -> CurrentGuard {
        let prev = CURRENT.with(|c| c.borrow_mut().replace(io_loop.clone()));
        CurrentGuard { prev }
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}

/// Marks the loop as running, and idle again when dropped (also on unwind).
struct StateGuard<'a>(&'a Core);

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        if self.0.state.get() == LoopState::Running {
            self.0.state.set(LoopState::Idle);
        }
    }
}

impl IoLoop {
    /// `IOLoop.NONE`.
    pub const NONE: Events = Events::NONE;
    /// `IOLoop.READ`.
    pub const READ: Events = Events::READ;
    /// `IOLoop.WRITE`.
    pub const WRITE: Events = Events::WRITE;
    /// `IOLoop.ERROR`.
    pub const ERROR: Events = Events::ERROR;

    /// A new loop. It is not made current: [`start`](IoLoop::start) and
    /// [`run_sync`](IoLoop::run_sync) make it current while they run.
    ///
    /// # Panics
    ///
    /// If the OS refuses a poller (out of file descriptors); [`IoLoop::try_new`] returns the
    /// error instead.
    pub fn new() -> IoLoop {
        IoLoop::try_new().expect("cannot create an event loop")
    }

    /// A new loop, or the OS error that prevented it (`epoll_create` or `eventfd` failing).
    pub fn try_new() -> io::Result<IoLoop> {
        Ok(IoLoop { core: Core::new()? })
    }

    /// The loop of this thread: the one running, else the one made current last, else a new
    /// one, which stays current (`IOLoop.current()`).
    ///
    /// # Panics
    ///
    /// If a new loop is needed and the OS refuses it, as [`IoLoop::new`].
    pub fn current() -> IoLoop {
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            match &*c {
                Some(l) => l.clone(),
                None => {
                    let l = IoLoop::new();
                    *c = Some(l.clone());
                    l
                }
            }
        })
    }

    /// The current loop if there is one, without creating one
    /// (`IOLoop.current(instance=False)`).
    pub fn try_current() -> Option<IoLoop> {
        CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
    }

    /// A handle for other threads.
    pub fn handle(&self) -> IoLoopHandle {
        IoLoopHandle {
            shared: self.core.shared.clone(),
        }
    }

    /// Runs the loop until [`stop`](IoLoop::stop) is called. The loop is current meanwhile.
    ///
    /// Fails if the loop is already running or closed, or if polling fails.
    pub fn start(&self) -> io::Result<()> {
        let _state = self.enter_running()?;
        let _current = CurrentGuard::enter(self);
        self.core.run(&|| false)
    }

    fn enter_running(&self) -> Result<StateGuard<'_>, Error> {
        match self.core.state.get() {
            LoopState::Running => Err(Error::already_running()),
            LoopState::Closed => Err(Error::closed()),
            LoopState::Idle => {
                self.core.state.set(LoopState::Running);
                Ok(StateGuard(&self.core))
            }
        }
    }

    /// Stops the loop after the current iteration: the callbacks already taken for it still
    /// run, then [`start`](IoLoop::start) returns. Pending work stays for the next `start`.
    /// Called while the loop is not running, it makes the next `start` return after one
    /// iteration.
    pub fn stop(&self) {
        self.core.stopping.set(true);
    }

    /// `true` while [`start`](IoLoop::start) or [`run_sync`](IoLoop::run_sync) runs.
    pub fn is_running(&self) -> bool {
        self.core.state.get() == LoopState::Running
    }

    /// `true` once [`close`](IoLoop::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// Closes the loop: pending callbacks, timers and tasks are dropped (tasks as
    /// cancelled), handlers are removed and the sources given to
    /// [`add_handler`](IoLoop::add_handler) dropped, the default executor is shut down
    /// without waiting. Later calls do nothing; callbacks from other threads are ignored.
    /// If this loop is the thread's current one, it stops being current.
    ///
    /// Fails if the loop is running: stop it first, as in Tornado.
    pub fn close(&self) -> Result<(), Error> {
        match self.core.state.get() {
            LoopState::Running => return Err(Error::already_running()),
            LoopState::Closed => return Ok(()),
            LoopState::Idle => {}
        }
        self.core.close();
        let _ = CURRENT.try_with(|c| {
            let mut c = c.borrow_mut();
            if c.as_ref().is_some_and(|l| Rc::ptr_eq(&l.core, &self.core)) {
                *c = None;
            }
        });
        Ok(())
    }

    /// Runs the loop until the future made by `f` completes, and returns its output
    /// (`IOLoop.run_sync`). `f` is called with this loop current.
    ///
    /// With a `timeout`, the future is cancelled (dropped) when it expires and the result is
    /// an error for which [`Error::is_timeout`] is true. If the loop is stopped before the
    /// future completes, [`Error::is_stopped`]; the future is left to a later `start`.
    /// A panic in the future is resumed on the caller's thread, as Tornado re-raises.
    pub fn run_sync<F, Fut>(&self, f: F, timeout: Option<Duration>) -> Result<Fut::Output, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        let _state = self.enter_running()?;
        let _current = CurrentGuard::enter(self);
        let task = Task::spawn(&self.core, f());
        let timed_out = Rc::new(Cell::new(false));
        let timer = timeout.map(|d| {
            let timed_out = timed_out.clone();
            let core = Rc::downgrade(&self.core);
            let task_ref = task.task_ref();
            self.call_later(d, move || {
                timed_out.set(true);
                if let Some(core) = core.upgrade() {
                    core.cancel_task(task_ref);
                }
            })
        });
        let polled = self.core.run(&|| task.done());
        if let Some(timer) = timer {
            self.remove_timeout(timer);
        }
        polled?;
        match task.take_outcome() {
            Some(Ok(v)) => Ok(v),
            Some(Err(Failure::Panicked(payload))) => std::panic::resume_unwind(payload),
            Some(Err(Failure::Cancelled)) if timed_out.get() => Err(Error::timeout()),
            Some(Err(Failure::Cancelled)) => Err(Error::cancelled()),
            None => Err(Error::stopped()),
        }
    }

    /// The loop's clock: monotonic, the one every deadline in this workspace is measured on
    /// (`IOLoop.time()`).
    pub fn time(&self) -> Instant {
        Instant::now()
    }

    /// The loop's clock as read at the start of the current iteration (just after it polled
    /// for events): no system clock read, at the price of lagging [`time`](Self::time) by up
    /// to the iteration's run time so far. For bookkeeping that tolerates that, such as the
    /// last activity on a connection. (Tornado has no such call; its `time()` reads the
    /// clock.)
    pub fn iteration_time(&self) -> Instant {
        self.core.iteration_time.get()
    }

    /// Runs `callback` on the next iteration (`IOLoop.add_callback`). From other threads use
    /// [`IoLoopHandle::add_callback`]. Ignored once the loop is closed.
    pub fn add_callback(&self, callback: impl FnOnce() + 'static) {
        self.core.push(Runnable::Callback(Box::new(callback)));
    }

    /// Runs `future` as a task whose result nobody awaits (`IOLoop.spawn_callback`): it
    /// starts on the next iteration, and a panic in it is logged on the `application` target.
    pub fn spawn_callback(&self, future: impl Future<Output = ()> + 'static) {
        if !self.core.is_closed() {
            self.core.spawn_boxed(Box::pin(future), None);
        }
    }

    /// Runs `future` as a task and returns a handle to await it (asyncio's `create_task`,
    /// which Tornado code reaches through `gen.convert_yielded`). The future need not be
    /// `Send`; it starts on the next iteration.
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Task::spawn(&self.core, future)
    }

    /// Runs `callback` with the output of `future` once it completes (`IOLoop.add_future`).
    pub fn add_future<F>(&self, future: F, callback: impl FnOnce(F::Output) + 'static)
    where
        F: Future + 'static,
    {
        self.spawn_callback(async move {
            let output = future.await;
            callback(output);
        });
    }

    /// Runs `callback` at `deadline`: an [`Instant`] on [`time`](IoLoop::time) or a
    /// [`Duration`] from now (`IOLoop.add_timeout`).
    pub fn add_timeout(
        &self,
        deadline: impl Into<Deadline>,
        callback: impl FnOnce() + 'static,
    ) -> TimeoutHandle {
        self.call_at(deadline.into().instant(), callback)
    }

    /// Runs `callback` at `when` (`IOLoop.call_at`). Timeouts with equal deadlines run in the
    /// order they were added.
    pub fn call_at(&self, when: Instant, callback: impl FnOnce() + 'static) -> TimeoutHandle {
        self.core
            .timers
            .borrow_mut()
            .insert(when, TimerAction::Callback(Box::new(callback)))
    }

    /// Runs `callback` after `delay` (`IOLoop.call_later`).
    pub fn call_later(&self, delay: Duration, callback: impl FnOnce() + 'static) -> TimeoutHandle {
        self.call_at(Deadline::After(delay).instant(), callback)
    }

    /// Cancels a timeout (`IOLoop.remove_timeout`). Removing one that already ran, or was
    /// removed, does nothing.
    pub fn remove_timeout(&self, handle: TimeoutHandle) {
        let action = self.core.timers.borrow_mut().remove(handle);
        // Dropped after the borrow ends: a callback's captures may do anything when dropped.
        drop(action);
    }

    /// A future that completes at `deadline` (what `gen::sleep` returns).
    pub fn sleep(&self, deadline: impl Into<Deadline>) -> Sleep {
        Sleep::new(&self.core, deadline)
    }

    /// Calls `handler(fd, events)` whenever `source`'s descriptor has any of `events`
    /// (`IOLoop.add_handler`). `ERROR` is always reported.
    ///
    /// The loop keeps `source` until the handler is removed or the loop closed, then drops
    /// it: pass an owned socket to have it closed then (Tornado's `close(all_fds=True)`), or a
    /// bare `RawFd` (or an `Rc` clone) to keep it. Handlers are level-triggered, as Tornado's:
    /// a handler that leaves data unread is called again on the next iteration.
    ///
    /// Fails if the descriptor already has a handler or cannot be polled.
    pub fn add_handler<S: AsRawFd + 'static>(
        &self,
        source: S,
        handler: impl FnMut(RawFd, Events) + 'static,
        events: Events,
    ) -> io::Result<()> {
        if self.core.is_closed() {
            return Err(Error::closed().into());
        }
        let (fd, owner) = owner_fd(source);
        self.core
            .add_handler(fd, owner, Rc::new(RefCell::new(handler)), events)
    }

    /// Changes the events a handler listens for (`IOLoop.update_handler`).
    pub fn update_handler(&self, fd: RawFd, events: Events) -> io::Result<()> {
        self.core.update_handler(fd, events)
    }

    /// Stops listening on `fd` and drops its source (`IOLoop.remove_handler`). Returns
    /// `false` if it had no handler. Safe to call from inside the handler itself.
    pub fn remove_handler(&self, fd: RawFd) -> bool {
        self.core.remove_handler(fd)
    }

    /// Runs `f` on `executor`, or on the loop's default executor, and returns a future of its
    /// result to await on the loop (`IOLoop.run_in_executor`). This is where blocking work
    /// goes, so that it does not stop the loop.
    ///
    /// The default executor is a [`ThreadPoolExecutor`] of five threads per CPU, started
    /// lazily (Tornado's default), unless [`set_default_executor`](IoLoop::set_default_executor)
    /// gave another.
    pub fn run_in_executor<F, R>(&self, executor: Option<&dyn Executor>, f: F) -> SharedFuture<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        match executor {
            Some(e) => e.submit(f),
            None => self.default_executor().submit(f),
        }
    }

    /// Replaces the executor [`run_in_executor`](IoLoop::run_in_executor) uses by default
    /// (`IOLoop.set_default_executor`).
    pub fn set_default_executor(&self, executor: Arc<dyn Executor>) {
        *self.core.executor.borrow_mut() = Some(executor);
    }

    fn default_executor(&self) -> Arc<dyn Executor> {
        self.core
            .executor
            .borrow_mut()
            .get_or_insert_with(|| {
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                Arc::new(ThreadPoolExecutor::with_name(cpus * 5, "tornado-executor"))
            })
            .clone()
    }

    /// Timeouts added and neither run nor removed.
    pub fn pending_timeouts(&self) -> usize {
        self.core.timers.borrow().len()
    }

    /// Tasks spawned and not finished.
    pub fn pending_tasks(&self) -> usize {
        self.core.tasks.borrow().len()
    }
}

impl Default for IoLoop {
    fn default() -> Self {
        IoLoop::new()
    }
}

impl PartialEq for IoLoop {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.core, &other.core)
    }
}

impl Eq for IoLoop {}

impl fmt::Debug for IoLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoLoop")
            .field("id", &self.core.id)
            .field("state", &self.core.state.get())
            .finish()
    }
}

/// Spawns `future` on the current loop: `IoLoop::current().spawn(future)`.
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    IoLoop::current().spawn(future)
}
