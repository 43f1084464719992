//! Values that should not sit in argv (`ps`, shell history): a secret, key, PIN, URI or
//! registration code may be given as `-` (one line of standard input) or `@FILE` (the
//! file's content), as oathtool reads its KEY. Clap's parsers for numbers that give a
//! clear message for a negative one instead of "unexpected argument".

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};

use zeroize::Zeroizing;

static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);

/// The value of an argument that may hold a secret: `-` is one line of standard input
/// (only one argument may use it), `@FILE` the file's content; either without the
/// trailing line break. Anything else is the value itself. `what` names the argument
/// in errors (never the value).
pub fn sensitive(value: &str, what: &str) -> Result<Zeroizing<String>, String> {
    if value == "-" {
        if STDIN_TAKEN.swap(true, Ordering::SeqCst) {
            return Err(format!("{what}: only one argument can be read from standard input (-)"));
        }
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read {what} from standard input: {}", e.kind()))?;
        let value = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
        if value.is_empty() {
            return Err(format!("{what}: standard input is empty"));
        }
        return Ok(value);
    }
    if let Some(path) = value.strip_prefix('@') {
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| format!("cannot read {what} from {path}: {}", e.kind()))?,
        );
        let text =
            std::str::from_utf8(&bytes).map_err(|_| format!("{what}: {path} is not UTF-8 text"))?;
        let value = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string());
        if value.is_empty() {
            return Err(format!("{what}: {path} is empty"));
        }
        return Ok(value);
    }
    Ok(Zeroizing::new(value.to_string()))
}

/// [`sensitive`] for an optional argument.
pub fn sensitive_opt(value: Option<&str>, what: &str) -> Result<Option<Zeroizing<String>>, String> {
    value.map(|v| sensitive(v, what)).transpose()
}

/// A whole number from 0 to 2^64 - 1; a negative one is named as such.
pub fn unsigned(text: &str) -> Result<u64, String> {
    if is_negative(text) {
        return Err("must not be negative".into());
    }
    text.parse().map_err(|_| format!("must be a whole number from 0 to {}", u64::MAX))
}

/// A Unix time in seconds: 0 (1970-01-01 UTC) or later.
pub fn unix_time(text: &str) -> Result<u64, String> {
    if is_negative(text) {
        return Err("a Unix time is seconds since 1970-01-01 UTC and cannot be negative".into());
    }
    text.parse().map_err(|_| "must be a Unix time: a whole number of seconds".to_string())
}

fn is_negative(text: &str) -> bool {
    text.strip_prefix('-')
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}
