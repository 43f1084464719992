//! Two changes to the Kotlin that UniFFI 0.32 generates, which it has no option for
//! (docs/adr/0016-binding-post-processing.md):
//!
//! - **Error messages** (issue 15, item 14). UniFFI gives each variant of a sealed
//!   exception class `override val message get() = "<field>=${…}"`: empty for a variant
//!   without fields (`Locked`, `DeviceMismatch`, …) and a field listing for the others.
//!   The class's `toString()` already calls the Rust `Display` (`#[uniffi::export(Display)]`
//!   in src/ffi/errors.rs and src/host.rs); every `message` is made to return it, so
//!   `e.message` reads as the sentence the Rust side writes, fields included.
//! - **Redacted records** (issue 15, item 13). A Kotlin `data class` prints every
//!   property, so `println(code)`, a logger or a crash reporter would write the one-time
//!   code and the transfer's payee, account and memo. `LoginCode`, `TransactionCode` and
//!   `Transaction` get a `toString()` that shows only the facts that are not secret, the
//!   same ones as the Rust `Debug`, Python's `repr()` and Swift's `description`:
//!   `LoginCode(serialNumber=OTP-0001, validUntil=1700000030, secondsRemaining=12, ..)`.
//!
//! Both are checked: if the generated code no longer has the shape expected here (a
//! UniFFI upgrade), generation fails instead of shipping a binding without them.

/// The records printed redacted, with the properties they show.
pub const REDACTED: &[(&str, &[&str])] = &[
    ("LoginCode", &["serialNumber", "validUntil", "secondsRemaining"]),
    ("TransactionCode", &["serialNumber", "validUntil", "secondsRemaining"]),
    ("Transaction", &["amountMinor", "currency"]),
];

/// The marker UniFFI writes above an exception class's `toString()` from Rust.
const DISPLAY_MARKER: &str = "// The local Rust `Display`/`Debug` implementation.";

/// What [`patch`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Patched {
    /// The sealed exception classes whose messages now read as the Rust sentence.
    pub exceptions: Vec<String>,
    /// The records given a redacted `toString()`.
    pub records: Vec<String>,
}

/// Applies both changes to one generated Kotlin file. A file without exception classes
/// or the redacted records is returned unchanged; a file whose shape is not the expected
/// one is an error that says what is missing.
pub fn patch(source: &str) -> Result<(String, Patched), String> {
    let mut lines: Vec<String> = source.lines().map(str::to_owned).collect();
    let mut done = Patched::default();
    patch_exceptions(&mut lines, &mut done)?;
    for (record, shown) in REDACTED {
        if redact_record(&mut lines, record, shown)? {
            done.records.push((*record).to_owned());
        }
    }
    let mut text = lines.join("\n");
    if source.ends_with('\n') {
        text.push('\n');
    }
    Ok((text, done))
}

/// The name of the sealed exception class a line opens, if it opens one.
fn exception_class(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("sealed class ")?;
    let (name, tail) = rest.split_once(':')?;
    (tail.trim_start().starts_with("kotlin.Exception()") && tail.trim_end().ends_with('{'))
        .then(|| name.trim())
}

/// The index of the column-0 `}` that closes the block opened at `start`.
fn block_end(lines: &[String], start: usize) -> Option<usize> {
    (start + 1..lines.len()).find(|&i| lines[i] == "}")
}

fn patch_exceptions(lines: &mut [String], done: &mut Patched) -> Result<(), String> {
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = exception_class(&lines[i]).map(str::to_owned) else {
            i += 1;
            continue;
        };
        let end = block_end(lines, i).ok_or_else(|| format!("{name}: no closing brace"))?;
        if !lines[i..end].iter().any(|l| l.trim() == DISPLAY_MARKER) {
            return Err(format!(
                "{name} has no toString() from Rust: add #[uniffi::export(Display)] to its Rust error"
            ));
        }
        let mut messages = 0;
        for j in i..end {
            if lines[j].trim() != "override val message" {
                continue;
            }
            let getter = lines.get(j + 1).map(|l| l.trim()).unwrap_or_default();
            if !(getter.starts_with("get() = \"") && getter.ends_with('"')) {
                return Err(format!("{name}: unexpected message getter {getter:?}"));
            }
            let indent = lines[j + 1].len() - lines[j + 1].trim_start().len();
            lines[j + 1] = format!("{}get() = toString()", " ".repeat(indent));
            messages += 1;
        }
        if messages == 0 {
            return Err(format!("{name}: no variant message found"));
        }
        done.exceptions.push(name);
        i = end + 1;
    }
    Ok(())
}

/// Adds the redacted `toString()` to `data class <record> (`; false if the file has no
/// such class.
fn redact_record(lines: &mut Vec<String>, record: &str, shown: &[&str]) -> Result<bool, String> {
    let opening = format!("data class {record} (");
    let Some(start) = lines.iter().position(|l| *l == opening) else {
        return Ok(false);
    };
    let body = (start + 1..lines.len())
        .find(|&i| lines[i] == "){")
        .ok_or_else(|| format!("{record}: no end of the constructor"))?;
    let end = block_end(lines, body).ok_or_else(|| format!("{record}: no closing brace"))?;
    if lines[body..end].iter().any(|l| l.contains("fun toString()")) {
        return Err(format!("{record} already has a toString(): is the redaction still needed?"));
    }
    for field in shown {
        let property = format!("var `{field}`:");
        if !lines[start..body].iter().any(|l| l.trim_start().starts_with(&property)) {
            return Err(format!("{record} has no property {field}"));
        }
    }
    let facts: Vec<String> = shown.iter().map(|f| format!("{f}=${{`{f}`}}")).collect();
    let method = [
        "    /**".to_owned(),
        "     * Redacted: only the facts that are not secret (added by digital-otp's uniffi-bindgen).".to_owned(),
        "     */".to_owned(),
        format!("    override fun toString(): String = \"{record}({}, ..)\"", facts.join(", ")),
    ];
    lines.splice(body + 1..body + 1, method);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERATED: &str = r#"package org.digitalotp

data class LoginCode (
    var `code`: kotlin.String
    , 
    var `serialNumber`: kotlin.String
    , 
    var `validUntil`: kotlin.ULong
    , 
    var `secondsRemaining`: kotlin.ULong
    
){
    companion object
}

sealed class DigitalOtpException: kotlin.Exception() {
    class WrongPassword(
        val `attemptsRemaining`: kotlin.UInt
        ) : DigitalOtpException() {
        override val message
            get() = "attemptsRemaining=${ `attemptsRemaining` }"
    }
    class Locked(
        ) : DigitalOtpException() {
        override val message
            get() = ""
    }

    // The local Rust `Display`/`Debug` implementation.
    override fun toString(): String {
        return "from Rust"
    }
}
"#;

    #[test]
    fn messages_call_the_rust_display_and_records_print_redacted() {
        let (text, done) = patch(GENERATED).unwrap();
        assert_eq!(done.exceptions, ["DigitalOtpException"]);
        assert_eq!(done.records, ["LoginCode"]);
        assert_eq!(text.matches("            get() = toString()").count(), 2);
        assert!(!text.contains("get() = \""), "{text}");
        assert!(text.contains(
            "    override fun toString(): String = \"LoginCode(serialNumber=${`serialNumber`}, \
             validUntil=${`validUntil`}, secondsRemaining=${`secondsRemaining`}, ..)\"\n"
        ));
        assert!(!text.contains("${`code`}"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn an_exception_without_display_from_rust_is_refused() {
        let source = GENERATED.replace(DISPLAY_MARKER, "// nothing");
        let err = patch(&source).unwrap_err();
        assert!(err.contains("DigitalOtpException has no toString() from Rust"), "{err}");
    }

    #[test]
    fn a_changed_shape_is_refused_rather_than_shipped_unpatched() {
        let no_getter = GENERATED.replace("get() = \"\"", "get() = computeIt()");
        assert!(patch(&no_getter).unwrap_err().contains("unexpected message getter"));
        let renamed = GENERATED.replace("var `serialNumber`", "var `serial`");
        assert!(patch(&renamed).unwrap_err().contains("LoginCode has no property serialNumber"));
        let has_one = GENERATED.replace(
            "    companion object\n}\n\nsealed",
            "    override fun toString() = \"\"\n}\n\nsealed",
        );
        assert!(patch(&has_one).unwrap_err().contains("already has a toString()"));
    }

    #[test]
    fn a_file_without_them_is_unchanged() {
        let source = "package org.example\n\nfun f() = 1\n";
        assert_eq!(patch(source).unwrap(), (source.to_owned(), Patched::default()));
    }
}
