//! ExpectLog behaviour (tornado/test/testing_test.py covers ExpectLog through its users).

use tornado_log::{APPLICATION, ExpectLog, GENERAL};

#[test]
fn captures_matching_records_only() {
    let app = ExpectLog::new(APPLICATION, "Exception in callback");
    log::error!(target: APPLICATION, "Exception in callback: x");
    log::error!(target: GENERAL, "Exception in callback: other target, printed");
    log::error!(target: APPLICATION, "something else, printed");
    assert_eq!(app.matched(), 1);
}

#[test]
fn level_filter() {
    let warn = ExpectLog::new(GENERAL, "slow").level(log::Level::Warn);
    log::info!(target: GENERAL, "slow but info");
    assert_eq!(warn.matched(), 0);
    log::warn!(target: GENERAL, "slow request");
    assert_eq!(warn.matched(), 1);
}

#[test]
#[should_panic(expected = "did not get expected log message")]
fn missing_record_fails() {
    let _e = ExpectLog::new(APPLICATION, "never logged");
}

#[test]
fn optional_expectation() {
    let e = ExpectLog::new(APPLICATION, "never logged").required(false);
    assert_eq!(e.matched(), 0);
}

#[test]
fn other_threads_are_not_captured() {
    let e = ExpectLog::new(APPLICATION, "from thread").required(false);
    std::thread::spawn(|| log::error!(target: APPLICATION, "from thread (printed)"))
        .join()
        .unwrap();
    assert_eq!(e.matched(), 0);
}
