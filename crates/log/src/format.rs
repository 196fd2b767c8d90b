//! [`LogFormatter`]: Tornado's log line.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Formats records as Tornado's `LogFormatter` does:
/// `[L yymmdd HH:MM:SS module:line] message`, the bracketed prefix coloured by level when
/// colour is on (blue debug, green info, yellow warning, red error).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFormatter {
    color: bool,
}

impl LogFormatter {
    /// A formatter; `color` adds ANSI colours to the prefix. Default is `false`.
    pub fn new(color: bool) -> Self {
        LogFormatter { color }
    }

    /// The line for `record`, without a trailing newline.
    pub fn format(&self, record: &log::Record<'_>) -> String {
        self.format_at(record, SystemTime::now())
    }

    /// The line for `record` as if logged at `now`.
    pub fn format_at(&self, record: &log::Record<'_>, now: SystemTime) -> String {
        let mut line = String::with_capacity(64 + record.args().as_str().map_or(64, str::len));
        let (color, normal) = if self.color {
            (level_color(record.level()), "\x1b[0m")
        } else {
            ("", "")
        };
        let level = match record.level() {
            log::Level::Error => 'E',
            log::Level::Warn => 'W',
            log::Level::Info => 'I',
            log::Level::Debug => 'D',
            log::Level::Trace => 'T',
        };
        let module = record
            .module_path()
            .and_then(|m| m.rsplit("::").next())
            .unwrap_or_else(|| record.target());
        let _ = write!(
            line,
            "{color}[{level} {} {module}:{}]{normal} {}",
            format_timestamp_utc(now),
            record.line().unwrap_or(0),
            record.args()
        );
        line
    }
}

fn level_color(level: log::Level) -> &'static str {
    // Tornado's DEFAULT_COLORS, as `\033[2;3Nm` codes.
    match level {
        log::Level::Error => "\x1b[2;31m",
        log::Level::Warn => "\x1b[2;33m",
        log::Level::Info => "\x1b[2;32m",
        log::Level::Debug | log::Level::Trace => "\x1b[2;34m",
    }
}

/// `now` as Tornado's `%y%m%d %H:%M:%S`, in UTC.
pub fn format_timestamp_utc(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{:02}{:02}{:02} {:02}:{:02}:{:02}",
        y.rem_euclid(100),
        m,
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp_utc(UNIX_EPOCH), "700101 00:00:00");
        // 2026-11-23 19:52:03 UTC
        let t = UNIX_EPOCH + Duration::from_secs(1_795_463_523);
        assert_eq!(format_timestamp_utc(t), "261123 19:52:03");
        // 2000-02-29 (a leap day)
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(format_timestamp_utc(t), "000229 00:00:00");
    }

    #[test]
    fn line_format() {
        let record = log::Record::builder()
            .level(log::Level::Info)
            .target("general")
            .module_path(Some("tornado_web::app"))
            .line(Some(12))
            .args(format_args!("hello"))
            .build();
        let line = LogFormatter::new(false).format_at(&record, UNIX_EPOCH);
        assert_eq!(line, "[I 700101 00:00:00 app:12] hello");
        let colored = LogFormatter::new(true).format_at(&record, UNIX_EPOCH);
        assert!(colored.starts_with("\x1b[2;32m[I ") && colored.contains("]\x1b[0m hello"));
    }
}
