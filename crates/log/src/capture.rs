//! [`ExpectLog`]: capture and suppress expected log records in tests.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use crate::logger::install_capture_logger;

struct Expectation {
    target: String,
    prefix: String,
    level: Option<log::Level>,
    matched: Cell<usize>,
}

thread_local! {
    static ACTIVE: RefCell<Vec<Rc<Expectation>>> = const { RefCell::new(Vec::new()) };
}

/// `true` if an `ExpectLog` is active on this thread.
pub(crate) fn active() -> bool {
    ACTIVE
        .try_with(|a| a.try_borrow().is_ok_and(|a| !a.is_empty()))
        .unwrap_or(false)
}

/// Offers a record to this thread's expectations; `true` if one matched (and swallowed) it.
pub(crate) fn offer(record: &log::Record<'_>) -> bool {
    ACTIVE
        .try_with(|a| {
            let Ok(active) = a.try_borrow() else {
                return false;
            };
            if active.is_empty() {
                return false;
            }
            let message = record.args().to_string();
            for e in active.iter().rev() {
                if e.target == record.target()
                    && message.starts_with(&e.prefix)
                    && e.level.is_none_or(|l| l == record.level())
                {
                    e.matched.set(e.matched.get() + 1);
                    return true;
                }
            }
            false
        })
        .unwrap_or(false)
}

/// Captures log records that a test expects, and fails the test if they do not come
/// (`tornado.testing.ExpectLog`).
///
/// While it lives, records logged on this thread on `target` whose message starts with
/// `prefix` are counted and not printed. When it is dropped without having matched anything,
/// it panics (unless made optional with [`required(false)`](ExpectLog::required), or the
/// thread is already panicking). Records that match nothing are printed as usual.
///
/// It installs [`install_capture_logger`]'s logger if no logger is set; it panics if the
/// program installed a different logger, since it could then see nothing.
pub struct ExpectLog {
    expectation: Rc<Expectation>,
    required: bool,
}

impl ExpectLog {
    /// Expects a record on `target` whose message starts with `prefix`.
    ///
    /// # Panics
    ///
    /// If another logger than this crate's is installed.
    pub fn new(target: &str, prefix: &str) -> ExpectLog {
        assert!(
            install_capture_logger(),
            "ExpectLog needs tornado_log's logger, but another logger is installed"
        );
        let expectation = Rc::new(Expectation {
            target: target.to_owned(),
            prefix: prefix.to_owned(),
            level: None,
            matched: Cell::new(0),
        });
        ACTIVE.with(|a| a.borrow_mut().push(expectation.clone()));
        ExpectLog {
            expectation,
            required: true,
        }
    }

    /// Only records at exactly `level` match. Default: any level.
    pub fn level(self, level: log::Level) -> ExpectLog {
        let expectation = Rc::new(Expectation {
            target: self.expectation.target.clone(),
            prefix: self.expectation.prefix.clone(),
            level: Some(level),
            matched: Cell::new(0),
        });
        ACTIVE.with(|a| {
            let mut a = a.borrow_mut();
            if let Some(slot) = a.iter_mut().find(|e| Rc::ptr_eq(e, &self.expectation)) {
                *slot = expectation.clone();
            }
        });
        let required = self.required;
        std::mem::forget(self);
        ExpectLog {
            expectation,
            required,
        }
    }

    /// Whether a missing record fails the test. Default is `true`.
    pub fn required(mut self, required: bool) -> ExpectLog {
        self.required = required;
        self
    }

    /// How many records matched so far.
    pub fn matched(&self) -> usize {
        self.expectation.matched.get()
    }
}

impl Drop for ExpectLog {
    fn drop(&mut self) {
        let _ = ACTIVE.try_with(|a| a.borrow_mut().retain(|e| !Rc::ptr_eq(e, &self.expectation)));
        if self.required && self.matched() == 0 && !std::thread::panicking() {
            panic!(
                "did not get expected log message on {:?} starting with {:?}",
                self.expectation.target, self.expectation.prefix
            );
        }
    }
}

impl fmt::Debug for ExpectLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpectLog")
            .field("target", &self.expectation.target)
            .field("prefix", &self.expectation.prefix)
            .field("matched", &self.matched())
            .finish()
    }
}
