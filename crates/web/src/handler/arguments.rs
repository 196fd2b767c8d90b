//! Request arguments (`get_argument` and friends) and the route's path arguments.

use super::Handler;
use crate::error::{HttpError, Result};

impl Handler {
    /// The last value of argument `name` from the query or the body (`get_argument`),
    /// stripped of surrounding whitespace; a 400 if it is missing.
    pub fn get_argument(&self, name: &str) -> Result<String> {
        last(self.get_arguments(name)?, name)
    }

    /// [`get_argument`](Handler::get_argument) with a default for a missing argument.
    pub fn get_argument_or(&self, name: &str, default: &str) -> Result<String> {
        Ok(self
            .get_arguments(name)?
            .pop()
            .unwrap_or_else(|| default.to_owned()))
    }

    /// Every value of argument `name`, query first (`get_arguments`), stripped.
    pub fn get_arguments(&self, name: &str) -> Result<Vec<String>> {
        arguments(self.s.request.arguments(), name, true)
    }

    /// The last value of query argument `name` (`get_query_argument`); a 400 if missing.
    pub fn get_query_argument(&self, name: &str) -> Result<String> {
        last(self.get_query_arguments(name)?, name)
    }

    /// Every value of query argument `name` (`get_query_arguments`).
    pub fn get_query_arguments(&self, name: &str) -> Result<Vec<String>> {
        arguments(self.s.request.query_arguments(), name, true)
    }

    /// The last value of body argument `name` (`get_body_argument`); a 400 if missing.
    pub fn get_body_argument(&self, name: &str) -> Result<String> {
        last(self.get_body_arguments(name)?, name)
    }

    /// Every value of body argument `name` (`get_body_arguments`).
    pub fn get_body_arguments(&self, name: &str) -> Result<Vec<String>> {
        arguments(self.s.request.body_arguments(), name, true)
    }

    /// Every value of argument `name`, not stripped (`get_arguments(name, strip=False)`).
    pub fn get_arguments_unstripped(&self, name: &str) -> Result<Vec<String>> {
        arguments(self.s.request.arguments(), name, false)
    }

    /// Decodes the route's captures (`decode_argument`): UTF-8, or a 400.
    pub(crate) fn decode_path_args(&mut self) -> Result {
        if self.s.raw_args.positional.is_empty() && self.s.raw_args.named.is_empty() {
            // Most routes capture nothing.
            return Ok(());
        }
        let raw = std::mem::take(&mut self.s.raw_args);
        for arg in raw.positional {
            self.s.path_args.push(decode_path_arg(arg, "url")?);
        }
        for (name, arg) in raw.named {
            let value = decode_path_arg(arg, &name)?;
            self.s.path_kwargs.push((name, value));
        }
        Ok(())
    }
}

/// Collects argument values as Tornado's `_get_arguments` does: UTF-8 (a 400 otherwise),
/// control characters other than whitespace turned into spaces, then stripped.
fn arguments(
    source: &tornado_httpserver::httputil::Arguments,
    name: &str,
    strip: bool,
) -> Result<Vec<String>> {
    let Some(values) = source.get(name) else {
        return Ok(Vec::new());
    };
    values
        .iter()
        .map(|v| {
            let s = std::str::from_utf8(v).map_err(|_| {
                HttpError::new(400).with_log_message(format!(
                    "Invalid unicode in {name}: {:?}",
                    String::from_utf8_lossy(&v[..v.len().min(40)])
                ))
            })?;
            let s: String = s
                .chars()
                .map(|c| {
                    if matches!(c, '\x00'..='\x08' | '\x0e'..='\x1f') {
                        ' '
                    } else {
                        c
                    }
                })
                .collect();
            Ok(if strip { s.trim().to_owned() } else { s })
        })
        .collect()
}

fn decode_path_arg(arg: Option<Vec<u8>>, name: &str) -> Result<String> {
    let Some(bytes) = arg else {
        return Ok(String::new());
    };
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        HttpError::new(400)
            .with_log_message(format!(
                "Invalid unicode in {name}: {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
            ))
            .into()
    })
}

fn last(mut values: Vec<String>, name: &str) -> Result<String> {
    values
        .pop()
        .ok_or_else(|| HttpError::missing_argument(name).into())
}
