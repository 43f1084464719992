//! Three changes to the Kotlin that UniFFI 0.32 generates, which it has no option for
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
//! - **Per-call cost** (issue 18, item 3). Every call allocated a new JNA `Structure` for
//!   its `RustCallStatus` (two native `Memory` blocks, each put in JNA's global map of
//!   allocations and registered with its cleaner: 3–8 µs a call on a loaded 2-core machine,
//!   most of a 17 µs getter and of a 38 µs `Totp.codeForStep`), and JNA read and wrote each
//!   `Structure` argument field by field through reflection. Each thread now reuses one
//!   call status ([`CALL_HELPER`]); a status that reports success reads and writes only its
//!   code byte ([`STATUS_FAST_PATH`]); a `RustBuffer` reads and writes its three fields at
//!   their offsets, and one returned by a call is allocated once instead of twice
//!   ([`BUFFER_FAST_PATH`]). scripts/bench-kotlin.sh measures it.
//!
//! All three are checked: if the generated code no longer has the shape expected here (a
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
    /// The FFI helpers made cheaper per call: [`FFI_HELPERS`], all or none.
    pub ffi: Vec<String>,
}

/// The helpers that [`patch`] changes for the per-call cost, in the order it reports them.
pub const FFI_HELPERS: [&str; 3] =
    ["RustBuffer", "UniffiRustCallStatus", "uniffiRustCallWithError"];

/// UniFFI's `RustBuffer` class: its fields, in the C struct's order.
const BUFFER_CLASS: &[&str] = &[
    "@Structure.FieldOrder(\"capacity\", \"len\", \"data\")",
    "open class RustBuffer : Structure() {",
];
const BUFFER_FIELDS: &[&str] = &[
    "@JvmField var capacity: Long = 0",
    "@JvmField var len: Long = 0",
    "@JvmField var data: Pointer? = null",
];
/// The line after which [`BUFFER_FAST_PATH`] goes.
const BUFFER_ANCHOR: &str = "    class ByReference: RustBuffer(), Structure.ByReference";

/// `RustBuffer`'s `read()` and `write()`: `#[repr(C)] struct RustBuffer { capacity: u64,
/// len: u64, data: *mut u8 }` has its fields at 0, 8 and 16 on every target.
const BUFFER_FAST_PATH: &str = "
    // Added by digital-otp's uniffi-bindgen (issue 18): JNA reads and writes a Structure
    // argument or return value field by field through reflection; the C struct's three
    // fields (u64 capacity, u64 len, u8* data: offsets 0, 8, 16) are copied directly.
    override fun read() {
        val p = pointer
        capacity = p.getLong(0)
        len = p.getLong(8)
        data = p.getPointer(16)
    }

    override fun write() {
        val p = pointer
        p.setLong(0, capacity)
        p.setLong(8, len)
        p.setPointer(16, data)
    }

    // JNA allocates a returned RustBuffer.ByValue twice: in the constructor, then again to
    // give it dedicated memory. A second block of the same size is the first one, kept.
    private lateinit var uniffiMemory: com.sun.jna.Memory

    override fun autoAllocate(size: Int): com.sun.jna.Memory {
        if (this::uniffiMemory.isInitialized && uniffiMemory.size() == size.toLong()) return uniffiMemory
        return super.autoAllocate(size).also { uniffiMemory = it }
    }";

/// UniFFI's `UniffiRustCallStatus` class and its fields.
const STATUS_CLASS: &[&str] = &[
    "@Structure.FieldOrder(\"code\", \"error_buf\")",
    "internal open class UniffiRustCallStatus : Structure() {",
    "    @JvmField var code: Byte = 0",
    "    @JvmField var error_buf: RustBuffer.ByValue = RustBuffer.ByValue()",
    "",
    "    class ByValue: UniffiRustCallStatus(), Structure.ByValue",
];

/// `UniffiRustCallStatus`'s `read()` and `write()`: the Rust side writes the status only
/// when a call fails, and reads none of it; a Kotlin callback writes `error_buf` only with
/// a code that is not success.
const STATUS_FAST_PATH: &str = "
    // Added by digital-otp's uniffi-bindgen (issue 18): a status that reports success (the
    // usual case) reads and writes only its code byte; JNA's reflective walk over both
    // fields, the nested RustBuffer included, runs only for an error or a panic.
    override fun read() {
        code = pointer.getByte(0)
        if (code != UNIFFI_CALL_SUCCESS) super.read()
    }

    override fun write() {
        if (code == UNIFFI_CALL_SUCCESS) pointer.setByte(0, code) else super.write()
    }";

/// UniFFI's helper that every call into Rust goes through.
const CALL_HELPER_GENERATED: &[&str] = &[
    "private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {",
    "    var status = UniffiRustCallStatus()",
    "    val return_value = callback(status)",
    "    uniffiCheckCallStatus(errorHandler, status)",
    "    return return_value",
    "}",
];

/// The same helper with one status per thread, reused.
const CALL_HELPER: &str = "private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    val status = uniffiTakeCallStatus()
    val return_value = callback(status)
    uniffiCheckCallStatus(errorHandler, status)
    uniffiCallStatus.set(status)
    return return_value
}

// Added by digital-otp's uniffi-bindgen (issue 18): each thread reuses one call status
// instead of a new JNA Structure per call (two native allocations, each put in JNA's global
// map of allocations and registered with its cleaner). A call made while the thread's
// status is in use (from Kotlin code the Rust side calls back) gets a new one; a call that
// throws does not give its status back.
private val uniffiCallStatus = ThreadLocal<UniffiRustCallStatus?>()

private fun uniffiTakeCallStatus(): UniffiRustCallStatus {
    val status = uniffiCallStatus.get() ?: return UniffiRustCallStatus()
    uniffiCallStatus.set(null)
    status.code = UNIFFI_CALL_SUCCESS
    return status
}";

/// Applies both changes to one generated Kotlin file. A file without exception classes
/// or the redacted records is returned unchanged; a file whose shape is not the expected
/// one is an error that says what is missing.
pub fn patch(source: &str) -> Result<(String, Patched), String> {
    let mut lines: Vec<String> = source.lines().map(str::to_owned).collect();
    let mut done = Patched::default();
    patch_exceptions(&mut lines, &mut done)?;
    speed_up_calls(&mut lines, &mut done)?;
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

/// The index of the first of `block`'s lines, consecutive in `lines`.
fn find_block(lines: &[String], block: &[&str]) -> Option<usize> {
    (0..lines.len().saturating_sub(block.len() - 1))
        .find(|&i| block.iter().enumerate().all(|(k, b)| lines[i + k] == *b))
}

/// The per-call changes (see the module documentation), in a file that has UniFFI's FFI
/// helpers; a file with none of them is left alone, one with only some is an error.
fn speed_up_calls(lines: &mut Vec<String>, done: &mut Patched) -> Result<(), String> {
    let buffer = find_block(lines, BUFFER_CLASS);
    let status = find_block(lines, STATUS_CLASS);
    let helper = find_block(lines, CALL_HELPER_GENERATED);
    let (buffer, status, helper) = match (buffer, status, helper) {
        (None, None, None) => return Ok(()),
        (Some(b), Some(s), Some(h)) => (b, s, h),
        found => {
            return Err(format!(
                "unexpected FFI helpers (RustBuffer, UniffiRustCallStatus, \
                 uniffiRustCallWithError found: {:?}): is the per-call change still right?",
                (found.0.is_some(), found.1.is_some(), found.2.is_some())
            ))
        }
    };
    let buffer_end = block_end(lines, buffer + 1).ok_or("RustBuffer: no closing brace")?;
    let body = &lines[buffer + 2..buffer_end];
    for field in BUFFER_FIELDS {
        if !body.iter().any(|l| l.trim() == *field) {
            return Err(format!("RustBuffer has no field `{field}`"));
        }
    }
    let status_end =
        block_end(lines, status + 1).ok_or("UniffiRustCallStatus: no closing brace")?;
    for (class, start, end) in
        [("RustBuffer", buffer, buffer_end), ("UniffiRustCallStatus", status, status_end)]
    {
        if lines[start..end].iter().any(|l| l.contains("fun read()") || l.contains("fun write()")) {
            return Err(format!(
                "{class} already has a read() or write(): is the change still needed?"
            ));
        }
    }
    let anchor = (buffer..buffer_end)
        .find(|&i| lines[i] == BUFFER_ANCHOR)
        .ok_or("RustBuffer: no ByReference class")?;
    // From the end of the file up, so that the indices found above stay valid.
    let mut edits = [
        (helper, CALL_HELPER_GENERATED.len(), CALL_HELPER),
        (status + STATUS_CLASS.len(), 0, STATUS_FAST_PATH),
        (anchor + 1, 0, BUFFER_FAST_PATH),
    ];
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (at, removed, text) in edits {
        lines.splice(at..at + removed, text.lines().map(str::to_owned));
    }
    done.ffi.extend(FFI_HELPERS.iter().map(|h| (*h).to_owned()));
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

    /// UniFFI 0.32.2's FFI helpers, as generated (abridged).
    const HELPERS: &str = r#"@Structure.FieldOrder("capacity", "len", "data")
open class RustBuffer : Structure() {
    @JvmField var capacity: Long = 0
    @JvmField var len: Long = 0
    @JvmField var data: Pointer? = null

    class ByValue: RustBuffer(), Structure.ByValue
    class ByReference: RustBuffer(), Structure.ByReference

    companion object {
    }
}

@Structure.FieldOrder("code", "error_buf")
internal open class UniffiRustCallStatus : Structure() {
    @JvmField var code: Byte = 0
    @JvmField var error_buf: RustBuffer.ByValue = RustBuffer.ByValue()

    class ByValue: UniffiRustCallStatus(), Structure.ByValue

    fun isSuccess(): Boolean {
        return code == UNIFFI_CALL_SUCCESS
    }
}

private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    var status = UniffiRustCallStatus()
    val return_value = callback(status)
    uniffiCheckCallStatus(errorHandler, status)
    return return_value
}
"#;

    #[test]
    fn calls_reuse_a_status_per_thread_and_skip_the_reflective_field_walk() {
        let (text, done) = patch(HELPERS).unwrap();
        assert_eq!(done.ffi, FFI_HELPERS);
        assert!(!text.contains("var status = UniffiRustCallStatus()"), "{text}");
        assert!(text.contains("    val status = uniffiTakeCallStatus()\n"));
        assert!(text.contains("    uniffiCallStatus.set(status)\n    return return_value\n}\n"));
        assert_eq!(text.matches("override fun read()").count(), 2);
        assert_eq!(text.matches("override fun write()").count(), 2);
        let buffer = text.find("open class RustBuffer").unwrap();
        let status = text.find("internal open class UniffiRustCallStatus").unwrap();
        let reads: Vec<usize> = text.match_indices("override fun read()").map(|(i, _)| i).collect();
        assert!(buffer < reads[0] && reads[0] < status && status < reads[1], "{text}");
        assert!(text.contains("        data = p.getPointer(16)\n"));
        assert!(text.contains("        if (code != UNIFFI_CALL_SUCCESS) super.read()\n"));
        assert!(text.ends_with("}\n"));
        // Idempotence is refused rather than doubled.
        let err = patch(&text).unwrap_err();
        assert!(err.contains("unexpected FFI helpers"), "{err}");
    }

    #[test]
    fn ffi_helpers_of_another_shape_are_refused() {
        let status =
            HELPERS.replace("var status = UniffiRustCallStatus()", "val status = pool.take()");
        assert!(patch(&status).unwrap_err().contains("unexpected FFI helpers"));
        let field = HELPERS.replace("var len: Long = 0", "var len: Int = 0");
        assert!(patch(&field).unwrap_err().contains("RustBuffer has no field"));
    }

    #[test]
    fn a_file_without_them_is_unchanged() {
        let source = "package org.example\n\nfun f() = 1\n";
        assert_eq!(patch(source).unwrap(), (source.to_owned(), Patched::default()));
    }
}
