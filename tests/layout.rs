//! The layout of `src/` (outside `src/bin/`), checked from the sources themselves:
//!
//! - no import cycle among its modules (an edge A → B for every `use` of, or path into,
//!   module B in A's code outside comments and unit tests: `crate::…`, `super::…`,
//!   `self::…` and a child module's name);
//! - the layers point one way: nothing outside `ffi` uses `ffi`, and `host` and `crypto`
//!   use nothing of the crate;
//! - no file longer than 700 lines before its unit tests;
//! - one module-file convention: `name/mod.rs`, never `name.rs` beside `name/`.
//!
//! `cargo test --test layout -- --nocapture` prints the module graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 700;

type Module = Vec<String>;

struct Source {
    module: Module,
    path: PathBuf,
    /// The code before the unit tests, without comments and string contents.
    code: String,
    /// Lines before the unit tests.
    lines: usize,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "bin") && path.parent() == Some(&src_dir()) {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(path: &Path) -> Module {
    let rel = path.strip_prefix(src_dir()).unwrap();
    let mut parts: Vec<String> =
        rel.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The text before `#[cfg(test)] mod tests`, with comments removed and string and char
/// literals emptied (so that neither a doc link nor a message creates an edge).
fn strip(text: &str) -> (String, usize) {
    let cut = text.find("\n#[cfg(test)]\nmod tests").map_or(text.len(), |i| i + 1);
    let text = &text[..cut];
    let lines = text.lines().count();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if c == b'r' && (bytes.get(i + 1) == Some(&b'"') || bytes.get(i + 1) == Some(&b'#'))
        {
            // A raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while bytes.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if bytes.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            j += 1;
            let end: Vec<u8> =
                std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            while j < bytes.len() && !bytes[j..].starts_with(&end) {
                j += 1;
            }
            out.push_str("\"\"");
            i = j + end.len();
        } else if c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\''
            && (bytes.get(i + 2) == Some(&b'\'') || bytes.get(i + 1) == Some(&b'\\'))
        {
            // A char literal 'x' or '\n' (a lifetime 'a has no closing quote).
            let mut j = i + 1;
            if bytes[j] == b'\\' {
                j += 2;
            }
            while j < bytes.len() && bytes[j] != b'\'' {
                j += 1;
            }
            out.push_str("' '");
            i = j + 1;
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    (out, lines)
}

/// Every path of a `use` tree: `crate::a::{self, b::C}` gives `crate::a::self`, `crate::a::b::C`.
fn use_paths(tree: &str) -> Vec<String> {
    // Renames (`X as Y`) name the same module; then whitespace carries no meaning.
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut kept = String::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "as" && i + 1 < words.len() {
            let renamed = words[i + 1];
            // Keep what follows the new name (`,` or `}`).
            kept.push_str(renamed.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'));
            i += 2;
        } else {
            kept.push_str(words[i]);
            i += 1;
        }
    }
    let tree = kept;
    let mut out = Vec::new();
    expand("", &tree, &mut out);
    out
}

fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    if let Some(open) = tree.find('{') {
        let head = &tree[..open];
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&format!("{prefix}{head}"), &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        if start < inner.len() {
            expand(&format!("{prefix}{head}"), &inner[start..], out);
        }
    } else if !tree.is_empty() {
        let path = format!("{prefix}{tree}");
        out.push(path);
    }
}

/// The module a path names, from module `from`, or `None` for another crate.
fn resolve(from: &Module, path: &str, modules: &BTreeSet<Module>) -> Option<Module> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let first = *segments.first()?;
    let (mut at, rest): (Module, &[&str]) = match first {
        "crate" => (Vec::new(), &segments[1..]),
        "self" => (from.clone(), &segments[1..]),
        "super" => {
            let mut m = from.clone();
            let mut n = 0;
            while segments.get(n) == Some(&"super") {
                m.pop();
                n += 1;
            }
            (m, &segments[n..])
        }
        child => {
            let mut m = from.clone();
            m.push(child.to_string());
            if !modules.contains(&m) {
                return None;
            }
            (m, &segments[1..])
        }
    };
    for s in rest {
        let mut next = at.clone();
        next.push(s.to_string());
        if modules.contains(&next) {
            at = next;
        } else {
            break;
        }
    }
    Some(at)
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

fn sources() -> Vec<Source> {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    files
        .into_iter()
        .map(|path| {
            let (code, lines) = strip(&fs::read_to_string(&path).unwrap());
            Source { module: module_of(&path), path, code, lines }
        })
        .collect()
}

fn graph(sources: &[Source]) -> BTreeMap<Module, BTreeSet<Module>> {
    let modules: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for s in sources {
        let mut targets = BTreeSet::new();
        let mut rest = s.code.as_str();
        // `use` trees.
        while let Some(i) = rest.find("use ") {
            let before = rest[..i].chars().last();
            let after = &rest[i + 4..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let Some(end) = after.find(';') else { break };
            for path in use_paths(&after[..end]) {
                targets.extend(resolve(&s.module, &path, &modules));
            }
        }
        // Paths in code: crate::…, super::…, self::….
        let code = s.code.as_bytes();
        for anchor in ["crate::", "super::", "self::"] {
            let mut start = 0;
            while let Some(i) = s.code[start..].find(anchor) {
                let at = start + i;
                start = at + anchor.len();
                if at > 0 && (code[at - 1].is_ascii_alphanumeric() || code[at - 1] == b'_') {
                    continue;
                }
                let end = s.code[at..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .map_or(s.code.len(), |e| at + e);
                targets.extend(resolve(&s.module, &s.code[at..end], &modules));
            }
        }
        targets.remove(&s.module);
        edges.insert(s.module.clone(), targets);
    }
    edges
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        next: usize,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(st: &mut State<'a>, v: &'a Module) {
        st.index.insert(v, st.next);
        st.low.insert(v, st.next);
        st.next += 1;
        st.stack.push(v);
        st.on_stack.insert(v);
        let edges = st.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !st.index.contains_key(w) {
                visit(st, w);
                let lw = st.low[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if st.on_stack.contains(w) {
                let iw = st.index[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if st.low[v] == st.index[v] {
            let mut component = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                st.found.push(component);
            }
        }
    }
    let mut st = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !st.index.contains_key(v) {
            visit(&mut st, v);
        }
    }
    st.found
}

#[test]
fn no_import_cycle_among_the_modules() {
    let edges = graph(&sources());
    for (from, to) in &edges {
        println!("{} -> {}", name(from), to.iter().map(name).collect::<Vec<_>>().join(", "));
    }
    let found = cycles(&edges);
    assert!(
        found.is_empty(),
        "import cycles: {}",
        found
            .iter()
            .map(|c| c.iter().map(name).collect::<Vec<_>>().join(" <-> "))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

#[test]
fn the_layers_point_one_way() {
    let edges = graph(&sources());
    let mut wrong = Vec::new();
    for (from, to) in &edges {
        let in_ffi = from.first().is_some_and(|m| m == "ffi");
        for t in to {
            if !in_ffi && t.first().is_some_and(|m| m == "ffi") {
                wrong.push(format!("{} uses {}", name(from), name(t)));
            }
        }
        let leaf = matches!(from.first().map(String::as_str), Some("host" | "crypto"));
        if leaf && !to.is_empty() {
            wrong.push(format!(
                "{} uses {:?}",
                name(from),
                to.iter().map(name).collect::<Vec<_>>()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The check sees real edges (it is not vacuous).
    assert!(
        edges[&vec!["ffi".to_string(), "app".to_string()]].contains(&vec!["client".to_string()])
    );
}

#[test]
fn no_file_is_longer_than_700_lines_before_its_unit_tests() {
    let long: Vec<String> = sources()
        .iter()
        .filter(|s| s.lines > MAX_LINES)
        .map(|s| format!("{} ({} lines)", s.path.display(), s.lines))
        .collect();
    assert!(long.is_empty(), "longer than {MAX_LINES} lines: {long:?}");
}

#[test]
fn one_module_file_convention() {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let both: Vec<String> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "mod.rs" && n != "lib.rs"))
        .filter(|f| f.with_extension("").is_dir())
        .map(|f| f.display().to_string())
        .collect();
    assert!(both.is_empty(), "name.rs beside name/ (use name/mod.rs): {both:?}");
}

#[test]
fn the_parser_sees_uses_paths_and_ignores_comments_and_strings() {
    let (code, _) = strip("use crate::a::{self, b::C}; // crate::z\nlet s = \"crate::y\";\n/// [`crate::x`]\nfn f() { super::w(); }\n#[cfg(test)]\nmod tests { use crate::t; }\n");
    assert!(!code.contains("crate::z") && !code.contains("crate::y") && !code.contains("crate::x"));
    assert!(!code.contains("crate::t"));
    assert!(code.contains("super::w"));
    assert_eq!(
        use_paths("crate::a::{self, b::{C, D as E}}"),
        ["crate::a::self", "crate::a::b::C", "crate::a::b::D"]
    );
    let modules: BTreeSet<Module> =
        [vec![], vec!["a".into()], vec!["a".into(), "b".into()]].into_iter().collect();
    assert_eq!(
        resolve(&vec!["a".into(), "b".into()], "super::X", &modules),
        Some(vec!["a".into()])
    );
    assert_eq!(resolve(&vec!["a".into()], "b::X", &modules), Some(vec!["a".into(), "b".into()]));
    assert_eq!(resolve(&vec![], "ring::aead", &modules), None);
    let mut edges = BTreeMap::new();
    edges.insert(vec!["a".to_string()], BTreeSet::from([vec!["b".to_string()]]));
    edges.insert(vec!["b".to_string()], BTreeSet::from([vec!["a".to_string()]]));
    assert_eq!(cycles(&edges).len(), 1);
}
