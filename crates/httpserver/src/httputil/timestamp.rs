//! HTTP dates: [`format_timestamp`] and [`parse_http_date`].
//!
//! Both do their own calendar arithmetic (days from the civil date and back, after Howard
//! Hinnant's algorithms) so that no `SystemTime` can make them panic; the `httpdate` crate
//! panics on times before 1970 or after 9999, which Python formats and parses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::pystr::{py_int, py_isspace};

const SECONDS_PER_DAY: i64 = 86_400;
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats `ts` as an HTTP date in IMF-fixdate form, e.g. `Sun, 27 Jan 2013 18:43:20 GMT`
/// (Tornado's `format_timestamp`). Fractions of a second are dropped (rounding down, also
/// before 1970).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tornado_httpserver::httputil::format_timestamp;
///
/// let ts = UNIX_EPOCH + Duration::from_secs(1_359_312_200);
/// assert_eq!(format_timestamp(ts), "Sun, 27 Jan 2013 18:43:20 GMT");
/// ```
pub fn format_timestamp(ts: SystemTime) -> String {
    let seconds = match ts.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            -whole - i64::from(before.subsec_nanos() > 0)
        }
    };
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Parses an HTTP date as Tornado reads `If-Modified-Since`: Python's
/// `email.utils.parsedate_to_datetime`, with a date that has no zone taken as UTC. `None`
/// where Python raises.
///
/// That parser is lenient: besides the three forms HTTP allows (IMF-fixdate, RFC 850 and
/// asctime) it takes numeric zones (`+0200`), US zone names (`EST`), two-digit years, a
/// missing weekday, full month names, and it ignores an unknown zone. Dates must still
/// exist (no 31 February, no hour 24, no leap second) and fall in years 1 to 9999.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tornado_httpserver::httputil::parse_http_date;
///
/// let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
/// assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
/// assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
/// assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
/// assert_eq!(parse_http_date("yesterday"), None);
/// ```
pub fn parse_http_date(value: &str) -> Option<SystemTime> {
    let date = parsedate_tz(value)?;
    let valid = (1..=9999).contains(&date.year)
        && (1..=days_in_month(date.year, date.month)).contains(&date.day)
        && (0..24).contains(&date.hour)
        && (0..60).contains(&date.minute)
        && (0..60).contains(&date.second)
        && date.offset.is_none_or(|o| o.abs() < SECONDS_PER_DAY);
    if !valid {
        return None;
    }
    let seconds = days_from_civil(date.year, date.month, date.day) * SECONDS_PER_DAY
        + date.hour * 3600
        + date.minute * 60
        + date.second
        - date.offset.unwrap_or(0);
    Some(if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    })
}

/// The fields of a parsed date, not yet validated.
#[derive(Debug, PartialEq, Eq)]
struct ParsedDate {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    /// Seconds east of UTC; `None` for no zone, an unknown one, or `-0000`.
    offset: Option<i64>,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MONTH_NAMES: [&str; 24] = [
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
/// RFC 822's zone names, as `±hhmm`.
const ZONES: [(&str, i64); 14] = [
    ("UT", 0),
    ("UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("AST", -400),
    ("ADT", -300),
    ("EST", -500),
    ("EDT", -400),
    ("CST", -600),
    ("CDT", -500),
    ("MST", -700),
    ("MDT", -600),
    ("PST", -800),
    ("PDT", -700),
];

/// A step-by-step port of Python's `email._parseaddr._parsedate_tz`, whose token shuffling
/// defines which strings count as dates.
fn parsedate_tz(value: &str) -> Option<ParsedDate> {
    let mut data: Vec<String> = value
        .split(py_isspace)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let first = data.first()?.clone();
    // The space after the weekday's comma is optional, so "Sun,06" is cut at the comma.
    if first.ends_with(',') || DAY_NAMES.contains(&first.to_lowercase().as_str()) {
        data.remove(0);
    } else if let Some(i) = first.rfind(',') {
        data[0] = first[i + 1..].to_owned();
    }
    if data.len() == 3 {
        // RFC 850: `06-Nov-94`.
        let pieces: Vec<String> = data[0].split('-').map(str::to_owned).collect();
        if pieces.len() == 3 {
            data.splice(0..1, pieces);
        }
    }
    if data.len() == 4 {
        // A zone glued to the time: `08:49:37+0200`.
        let s = data[3].clone();
        match s.find('+').or_else(|| s.find('-')) {
            Some(i) if i > 0 => {
                data[3] = s[..i].to_owned();
                data.push(s[i..].to_owned());
            }
            _ => data.push(String::new()),
        }
    }
    if data.len() < 5 {
        return None;
    }
    data.truncate(5);
    let [mut dd, mm, mut yy, mut tm, mut tz]: [String; 5] = data.try_into().ok()?;
    if dd.is_empty() || mm.is_empty() || yy.is_empty() {
        return None;
    }
    let mut mm = mm.to_lowercase();
    if !MONTH_NAMES.contains(&mm.as_str()) {
        (dd, mm) = (mm, dd.to_lowercase());
    }
    let month = MONTH_NAMES.iter().position(|&m| m == mm)? as i64 % 12 + 1;
    if dd.ends_with(',') {
        dd.pop();
    }
    if yy.find(':').is_some_and(|i| i > 0) {
        std::mem::swap(&mut yy, &mut tm);
    }
    if yy.ends_with(',') {
        yy.pop();
        if yy.is_empty() {
            return None;
        }
    }
    // Python's `isdigit()`; of latin-1 (header text) it also accepts ¹ ² ³.
    let starts_with_digit = yy
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '\u{b2}' | '\u{b3}' | '\u{b9}'));
    if !starts_with_digit {
        std::mem::swap(&mut yy, &mut tz);
    }
    if tm.ends_with(',') {
        tm.pop();
    }
    let colon: Vec<&str> = tm.split(':').collect();
    let (hh, mi, ss) = match colon[..] {
        [hh, mi] => (hh, mi, "0"),
        [hh, mi, ss] => (hh, mi, ss),
        // Some mailers separate the time with dots.
        [single] if single.contains('.') => match single.split('.').collect::<Vec<_>>()[..] {
            [hh, mi] => (hh, mi, "0"),
            [hh, mi, ss] => (hh, mi, ss),
            _ => return None,
        },
        _ => return None,
    };
    let mut year = py_int(&yy)?;
    let (day, hour, minute, second) = (py_int(&dd)?, py_int(hh)?, py_int(mi)?, py_int(ss)?);
    // POSIX's reading of two-digit years.
    if year < 100 {
        year += if year > 68 { 1900 } else { 2000 };
    }
    let tz = tz.to_uppercase();
    let hhmm = match ZONES.iter().find(|(name, _)| *name == tz) {
        Some(&(_, hhmm)) => Some(hhmm),
        // `-0000` means "zone unknown", as RFC 2822 says.
        None => py_int(&tz).filter(|&n| !(n == 0 && tz.starts_with('-'))),
    };
    let offset = hhmm.map(|n| {
        let magnitude = i128::from(n.unsigned_abs());
        let seconds = magnitude / 100 * 3600 + magnitude % 100 * 60;
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        if n < 0 { -seconds } else { seconds }
    });
    Some(ParsedDate {
        year,
        month,
        day,
        hour,
        minute,
        second,
        offset,
    })
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> SystemTime {
        if seconds >= 0 {
            UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
        }
    }

    #[test]
    fn formats_like_python() {
        assert_eq!(format_timestamp(at(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            format_timestamp(UNIX_EPOCH - Duration::from_millis(500)),
            "Wed, 31 Dec 1969 23:59:59 GMT"
        );
        assert_eq!(
            format_timestamp(at(253_402_300_799)),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            format_timestamp(at(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
    }

    #[test]
    fn calendar_round_trip() {
        for days in (-800_000..3_000_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!((1..=days_in_month(y, m)).contains(&d));
        }
    }

    #[test]
    fn parses_like_python() {
        // `parsedate_to_datetime` on CPython 3.11, naive results taken as UTC.
        let cases: &[(&str, Option<i64>)] = &[
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(784_111_777)),
            ("Sunday, 06-Nov-94 08:49:37 GMT", Some(784_111_777)),
            ("Sun Nov  6 08:49:37 1994", Some(784_111_777)),
            ("Sun, 06 Nov 1994 08:49:37 +0200", Some(784_104_577)),
            ("Sun, 06 Nov 1994 08:49:37 -0000", Some(784_111_777)),
            ("Sun, 06 Nov 1994 08:49:37 EST", Some(784_129_777)),
            ("06 Nov 1994 08:49:37", Some(784_111_777)),
            ("Sun,06 Nov 1994 08:49:37 GMT", Some(784_111_777)),
            ("garbage", None),
            ("", None),
            ("Sun, 31 Feb 1994 08:49:37 GMT", None),
            ("Sun, 06 Nov 1994 24:00:00 GMT", None),
            ("Sun, 06 Nov 1994 08:49:60 GMT", None),
            ("Sun, 06 Nov 94 08:49 GMT", Some(784_111_740)),
            ("Sun, 06 Nov 1994 08.49.37 GMT", Some(784_111_777)),
            ("Sun, 06 Nov 1994 08:49:37 +9999", None),
            ("Sun, 06 Nov 1994 08:49:37 +2359", Some(784_025_437)),
            ("Sun, 06 Nov 1994 08:49:37 XYZ", Some(784_111_777)),
            ("6 November 1994 08:49:37 GMT", Some(784_111_777)),
            ("Nov 6 1994 08:49:37", Some(784_111_777)),
            ("Sun, 06 Nov 1994 08:49:37+0200", Some(784_104_577)),
            ("Sun, 06 Nov 0 08:49:37 GMT", Some(973_500_577)),
            ("Sun, 06 Nov 10000 08:49:37 GMT", None),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(0)),
            ("Wed, 31 Dec 1969 23:59:59 GMT", Some(-1)),
            ("Sun, 06 Nov 1994 08:49:37 gmt", Some(784_111_777)),
            ("1994 Nov 06 08:49:37", None),
            ("Sun, 06 Nov 1994, 08:49:37 GMT", Some(784_111_777)),
            ("Sun, 06 Nov +1994 08:49:37 GMT", None),
            ("Sun, 06 Nov 1_994 08:49:37 GMT", Some(784_111_777)),
            ("Sun, 06 Nov 1994 8:9:7 GMT", Some(784_109_347)),
            ("Sun, 06 Nov 1994 08:49:37 +0", Some(784_111_777)),
            ("Sun, 06 Nov 1994 08:49:37 -0030", Some(784_113_577)),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_http_date(value), expected.map(at), "{value:?}");
        }
    }
}
