//! The crate's own `uniffi-bindgen`, pinned to the same UniFFI version as the library.
//! Built only with `--features bindgen`. Use it in library mode:
//! `cargo run --features bindgen --bin uniffi-bindgen -- generate --library target/debug/libdigital_otp.so --language kotlin --out-dir out`
//!
//! After UniFFI has generated the bindings, the files under the output directory get what
//! UniFFI 0.32 has no option for (docs/adr/0016-binding-post-processing.md): the Kotlin ones
//! the three changes of [`kotlin`] (error messages as sentences, redacted records, cheaper
//! calls through JNA), the Swift ones the conformance of [`swift`] (errors described by
//! their Rust sentence).

mod kotlin;
mod swift;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The languages and the output directory of a `generate` command line.
fn generate_args(args: &[String]) -> (Vec<String>, Option<PathBuf>) {
    let mut languages = Vec::new();
    let mut out_dir = None;
    if args.first().map(String::as_str) != Some("generate") {
        return (languages, out_dir);
    }
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| rest.next().cloned());
        match flag {
            "--language" | "-l" => languages.extend(value()),
            "--out-dir" | "-o" => out_dir = value().map(PathBuf::from),
            _ => {}
        }
    }
    (languages, out_dir)
}

/// The files under `dir` whose name ends in `.extension`.
fn files_with(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files_with(&path, extension, out)?;
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
    Ok(())
}

/// Rewrites every `.extension` file under `out_dir` with `patch`, which returns the new
/// text and the names it changed; the names of all files together are returned.
fn patch_files(
    out_dir: &Path,
    extension: &str,
    patch: impl Fn(&str) -> Result<(String, Vec<String>), String>,
) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    files_with(out_dir, extension, &mut files)
        .map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut names = Vec::new();
    for file in files {
        let context = |e: String| format!("{}: {e}", file.display());
        let source = std::fs::read_to_string(&file).map_err(|e| context(e.to_string()))?;
        let (text, changed) = patch(&source).map_err(context)?;
        if text != source {
            std::fs::write(&file, text).map_err(|e| context(e.to_string()))?;
        }
        names.extend(changed);
    }
    Ok(names)
}

/// Patches the Kotlin under `out_dir`: the exception classes, all of
/// [`kotlin::REDACTED`] and the [`kotlin::FFI_HELPERS`] must be among what was changed.
fn patch_kotlin(out_dir: &Path) -> Result<(), String> {
    let changed = patch_files(out_dir, "kt", |source| {
        kotlin::patch(source)
            .map(|(text, done)| (text, [done.exceptions, done.records, done.ffi].concat()))
    })?;
    let mut missing: Vec<&str> = ["DigitalOtpException", "OtpException", "HostException"].to_vec();
    missing.extend(kotlin::REDACTED.iter().map(|(name, _)| *name));
    missing.extend(kotlin::FFI_HELPERS);
    missing.retain(|name| !changed.iter().any(|c| c == name));
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: the generated Kotlin lacks {missing:?}", out_dir.display()))
    }
}

/// Patches the Swift under `out_dir`: the app side's errors must be among what was changed.
fn patch_swift(out_dir: &Path) -> Result<(), String> {
    let changed = patch_files(out_dir, "swift", swift::patch)?;
    let mut missing = vec!["DigitalOtpError", "OtpError", "HostError"];
    missing.retain(|name| !changed.iter().any(|c| c == name));
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: the generated Swift lacks {missing:?}", out_dir.display()))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    uniffi::uniffi_bindgen_main();
    let (languages, out_dir) = generate_args(&args);
    let kotlin = languages.iter().any(|l| l == "kotlin");
    let swift = languages.iter().any(|l| l == "swift");
    if !kotlin && !swift {
        return ExitCode::SUCCESS;
    }
    let Some(out_dir) = out_dir else {
        eprintln!(
            "uniffi-bindgen: --out-dir is needed to post-process the Kotlin and Swift bindings"
        );
        return ExitCode::FAILURE;
    };
    let result = (if kotlin { patch_kotlin(&out_dir) } else { Ok(()) }).and_then(|()| {
        if swift {
            patch_swift(&out_dir)
        } else {
            Ok(())
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uniffi-bindgen: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::generate_args;
    use std::path::PathBuf;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn reads_the_languages_and_the_output_directory_in_every_spelling() {
        let (languages, out) =
            generate_args(&args("generate --no-format -l kotlin --language=swift -o out lib.so"));
        assert_eq!(languages, ["kotlin", "swift"]);
        assert_eq!(out, Some(PathBuf::from("out")));
        let (languages, out) =
            generate_args(&args("generate --language python --out-dir=dir lib.so"));
        assert_eq!((languages, out), (vec!["python".to_owned()], Some(PathBuf::from("dir"))));
        assert_eq!(generate_args(&args("print-repr lib.so")), (vec![], None));
    }
}
