//! One change to the Swift that UniFFI 0.32 generates (docs/adr/0016-binding-post-processing.md):
//! an error enum that exports the Rust `Display` gets its `description` from Rust but not
//! the `CustomStringConvertible` conformance (UniFFI adds it for records, enums and objects,
//! not for errors). Without it `"\(error)"` and `error.localizedDescription` (UniFFI's
//! `errorDescription` is `String(reflecting: self)`) print the case name (`Locked`), not the
//! sentence. The conformance is added to each such error's declaration.

/// Adds the conformance to every `enum …: Swift.Error` whose Rust `Display` the file calls;
/// returns the text and the errors changed. An error enum without one is refused.
pub fn patch(source: &str) -> Result<(String, Vec<String>), String> {
    let mut patched = Vec::new();
    let mut out = String::with_capacity(source.len() + 128);
    for line in source.split_inclusive('\n') {
        let Some(name) = error_enum(line) else {
            out.push_str(line);
            continue;
        };
        let display = format!("_fn_method_{}_uniffi_trait_display(", name.to_lowercase());
        if !source.contains(&display) {
            return Err(format!("{name} has no description from Rust: add #[uniffi::export(Display)] to its Rust error"));
        }
        let body = line.trim_end();
        if body.contains("CustomStringConvertible") {
            out.push_str(line);
        } else {
            let head = body.strip_suffix('{').unwrap_or(body).trim_end();
            out.push_str(&format!("{head}, CustomStringConvertible {{{}", &line[body.len()..]));
        }
        patched.push(name.to_owned());
    }
    Ok((out, patched))
}

/// The name of the error enum a declaration line opens (`enum X: Swift.Error, … {`).
fn error_enum(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("enum ")?;
    let (name, conformances) = rest.split_once(':')?;
    (conformances.trim_start().starts_with("Swift.Error") && line.trim_end().ends_with('{'))
        .then(|| name.trim())
}

#[cfg(test)]
mod tests {
    use super::patch;

    const GENERATED: &str = "public\nenum HostError: Swift.Error, Equatable, Foundation.LocalizedError {\n    case failed(reason: String)\n\
        // The local Rust `Display` implementation.\npublic var description: String {\n    uniffi_digital_otp_fn_method_hosterror_uniffi_trait_display(x)\n}\n}\n";

    #[test]
    fn an_error_with_the_rust_display_conforms_to_custom_string_convertible() {
        let (text, patched) = patch(GENERATED).unwrap();
        assert_eq!(patched, ["HostError"]);
        assert!(text.contains(
            "enum HostError: Swift.Error, Equatable, Foundation.LocalizedError, CustomStringConvertible {\n"
        ));
        assert_eq!(text.len(), GENERATED.len() + ", CustomStringConvertible".len());
        assert_eq!(patch(&text).unwrap().0, text, "patching twice changes nothing more");
    }

    #[test]
    fn an_error_without_it_is_refused() {
        let source = GENERATED.replace("hosterror_uniffi_trait_display", "other");
        assert!(patch(&source).unwrap_err().contains("HostError has no description from Rust"));
        let plain = "enum Kind: Int {\n}\n";
        assert_eq!(patch(plain).unwrap(), (plain.to_owned(), vec![]));
    }
}
