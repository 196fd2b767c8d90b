//! Command-line flags shared by the examples (`--port N` and friends); no parser crate.

// Each example includes this file and uses only some of it.
#![allow(dead_code)]

/// The value of `--name VALUE` or `--name=VALUE`, if given.
pub(crate) fn flag(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    let long = format!("--{name}");
    while let Some(a) = args.next() {
        if a == long {
            return args.next();
        }
        if let Some(v) = a.strip_prefix(&format!("{long}=")) {
            return Some(v.to_owned());
        }
    }
    None
}

/// `true` if `--name` is given.
pub(crate) fn switch(name: &str) -> bool {
    let long = format!("--{name}");
    std::env::args().skip(1).any(|a| a == long)
}

/// `--name N` as a number, or `default`; exits with a message on a bad value.
pub(crate) fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match flag(name) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("--{name} takes a number, not {v:?}");
            std::process::exit(2);
        }),
    }
}
