//! [`TornadoLogger`]: the process-wide logger behind `enable_pretty_logging` and `ExpectLog`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::capture;
use crate::format::LogFormatter;

/// Writes records in Tornado's format to stderr, after offering each to the
/// [`ExpectLog`](crate::ExpectLog)s active on the logging thread.
#[derive(Debug)]
pub struct TornadoLogger {
    /// The most verbose level printed, as `log::LevelFilter as usize`.
    print_level: AtomicUsize,
    color: AtomicBool,
}

static LOGGER: TornadoLogger = TornadoLogger {
    print_level: AtomicUsize::new(log::LevelFilter::Warn as usize),
    color: AtomicBool::new(false),
};

static INSTALLED: AtomicBool = AtomicBool::new(false);

fn level_from_usize(n: usize) -> log::LevelFilter {
    match n {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

impl TornadoLogger {
    fn print_level(&self) -> log::LevelFilter {
        level_from_usize(self.print_level.load(Ordering::Relaxed))
    }
}

impl log::Log for TornadoLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.print_level() || capture::active()
    }

    fn log(&self, record: &log::Record<'_>) {
        if capture::offer(record) {
            return;
        }
        if record.level() > self.print_level() {
            return;
        }
        let line = LogFormatter::new(self.color.load(Ordering::Relaxed)).format(record);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Installs the logger if no logger is set yet. `false` if another logger is installed.
fn install() -> bool {
    if INSTALLED.load(Ordering::Acquire) {
        return true;
    }
    match log::set_logger(&LOGGER) {
        Ok(()) => {
            INSTALLED.store(true, Ordering::Release);
            true
        }
        // Two threads racing here: the winner may not have marked it installed yet, so
        // whether the installed logger is ours is asked of `log` itself.
        Err(_) => {
            let ours = std::ptr::addr_eq(log::logger() as *const dyn log::Log, &LOGGER);
            if ours {
                INSTALLED.store(true, Ordering::Release);
            }
            ours
        }
    }
}

/// Prints records at `level` and above to stderr in Tornado's format, coloured when stderr
/// is a terminal (`tornado.log.enable_pretty_logging`). Calling it again changes the level.
///
/// Returns `false` (and changes nothing) if the program already installed another logger.
pub fn enable_pretty_logging(level: log::LevelFilter) -> bool {
    if !install() {
        return false;
    }
    LOGGER.print_level.store(level as usize, Ordering::Relaxed);
    LOGGER
        .color
        .store(std::io::stderr().is_terminal(), Ordering::Relaxed);
    if log::max_level() < level {
        log::set_max_level(level);
    }
    true
}

/// Installs the logger for tests: records reach active [`ExpectLog`](crate::ExpectLog)s at
/// every level; those not captured are printed from `TORNADO_LOG` (`error`, `warn`, `info`,
/// `debug`, `trace`, `off`; default `warn`) up. `false` if another logger is installed.
pub fn install_capture_logger() -> bool {
    if !install() {
        return false;
    }
    if let Ok(v) = std::env::var("TORNADO_LOG")
        && let Ok(level) = v.parse::<log::LevelFilter>()
    {
        LOGGER.print_level.store(level as usize, Ordering::Relaxed);
    }
    log::set_max_level(log::LevelFilter::Trace);
    true
}
