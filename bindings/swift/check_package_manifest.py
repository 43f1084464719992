#!/usr/bin/env python3
"""Checks Package.swift manifests against the names the build uses, without Swift.

    check_package_manifest.py sdk MANIFEST --swift-module DigitalOTP --ffi-module DigitalOTPFFI \\
        (--xcframework-path DigitalOTPFFI.xcframework | --release-version 0.1.0) \\
        [--ios 15.0] [--macos 12.0] [--tests DigitalOTPTests] [--platform apple|linux] \\
        [--resource PrivacyInfo.xcprivacy]
    check_package_manifest.py consumer MANIFEST

`#if os(Linux)` / `#else` / `#endif` blocks are read as the platform given reads them
(`--platform`, default apple): the other branch is blanked before parsing. A target
list may name a constant declared as `let NAME: Target = .call(...)`.

The manifest is parsed with tree-sitter-swift (as check_swift_syntax.py does, after
the same two rewrites); the calls `.binaryTarget(...)`, `.target(...)`, `.library(...)`,
`.package(...)`, `.product(...)` and the platforms are read from the syntax tree, so
formatting and comments do not matter, but only literal strings are understood.

`sdk`: the SDK's package (bindings/swift/Package.swift, or the release manifest):
  - apple: exactly one binaryTarget, named after uniffi.toml's ffi_module_name, with
    path == the XCFramework scripts/build-xcframework.sh writes (development), or
    url ending in `<ffi>-<version>.xcframework.zip` and a 64-hex-digit checksum (release);
  - linux (development only): exactly one systemLibrary of that name at
    Sources/<ffi> (the header and module map build-xcframework.sh --headers-only stages),
    and no binaryTarget;
  - a target named after module_name, path Sources/<module>, depending on the binaryTarget;
  - a library product of that name with that target;
  - platforms .iOS(.vN) / .macOS(.vN) equal to the deployment targets the libraries are
    built for;
  - no unsafeFlags (a package with them cannot be used as a dependency), and on
    apple no systemLibrary target;
  - with --tests NAME: a testTarget NAME depending on the module; without it, no testTarget;
  - with --resource NAME (repeatable): the module's target lists `.copy(NAME)` or
    `.process(NAME)` in `resources:`, and Sources/<module>/NAME exists beside the manifest.
`consumer`: a package using the SDK's by path (ios-demo/DemoFlow/Package.swift): every
  `.package(path:)` has a Package.swift there, and every `.product(name:package:)` names
  a library product of a package it depends on.

Prints `ok MANIFEST: ...` or one line per problem; exit status 0 or 1 (2: bad usage).
"""

import argparse
import pathlib
import re
import sys

import tree_sitter
import tree_sitter_swift

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from check_swift_syntax import normalize, problems  # noqa: E402


class Call:
    """A call `.name(label: value, ...)` or `name(...)` of the manifest."""

    def __init__(self, name, args, line):
        self.name = name
        self.args = args  # [(label or None, value)]
        self.line = line

    def get(self, label, default=None):
        for key, value in self.args:
            if key == label:
                return value
        return default

    def __repr__(self):
        return f".{self.name}({', '.join(f'{k}: {v!r}' if k else repr(v) for k, v in self.args)})"


class Raw(str):
    """Source text of an expression that is neither a string, an array nor a call."""


def value_of(node, calls):
    if node.type == "line_string_literal":
        if any(c.type == "interpolated_expression" for c in node.children):
            return Raw(node.text.decode())
        return "".join(c.text.decode() for c in node.children if c.type == "line_str_text")
    if node.type == "array_literal":
        return [value_of(c, calls) for c in node.named_children]
    if node.type == "call_expression":
        return call_of(node, calls)
    return Raw(node.text.decode())


def call_of(node, calls):
    callee, suffix = node.children[0], node.children[-1]
    name = callee.text.decode().lstrip(".")
    args = []
    arguments = next((c for c in suffix.children if c.type == "value_arguments"), None)
    for argument in (arguments.named_children if arguments else []):
        if argument.type != "value_argument":
            continue
        label = None
        expression = None
        for child in argument.named_children:
            if child.type == "value_argument_label":
                label = child.text.decode()
            else:
                expression = child
        args.append((label, value_of(expression, calls) if expression is not None else None))
    call = Call(name, args, node.start_point[0] + 1)
    calls.append(call)
    return call


OS_IF = re.compile(rb"^[ \t]*#if[ \t]+(!?)os\([ \t]*Linux[ \t]*\)[ \t]*(//.*)?$")
ELSE_LINE = re.compile(rb"^[ \t]*#else\b")
ENDIF = re.compile(rb"^[ \t]*#endif\b")
ANY_IF = re.compile(rb"^[ \t]*#(if|elseif)\b")
LET_CALL = re.compile(r"^[ \t]*(?:public[ \t]+)?let[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[ \t]*[A-Za-z_.]+)?[ \t]*=[ \t]*\.([A-Za-z_]+)\(")


def select_platform(source, platform):
    """Blanks the branches of `#if os(Linux)` blocks that `platform` does not compile.

    Returns the new source (same length and line numbers) and the problems found
    (nested or other `#if os` conditions are not understood)."""
    lines = source.split(b"\n")
    found = []
    i = 0
    while i < len(lines):
        match = OS_IF.match(lines[i])
        if not match:
            if re.match(rb"^[ \t]*#(if|elseif)\b.*\bos\(", lines[i]):
                found.append(f"line {i + 1}: only `#if os(Linux)` / `#if !os(Linux)` is understood")
            i += 1
            continue
        linux_first = match.group(1) == b""
        keep_first = linux_first == (platform == "linux")
        start = i
        j = i + 1
        middle = None
        while j < len(lines) and not ENDIF.match(lines[j]):
            if ANY_IF.match(lines[j]):
                found.append(f"line {j + 1}: nested `#if` in an `#if os(Linux)` block is not understood")
            if ELSE_LINE.match(lines[j]):
                middle = j
            j += 1
        if j == len(lines):
            found.append(f"line {start + 1}: `#if os(Linux)` without `#endif`")
            break
        first = range(start + 1, middle if middle is not None else j)
        second = range(middle + 1, j) if middle is not None else range(0)
        for k in [start, j] + ([middle] if middle is not None else []) + list(second if keep_first else first):
            lines[k] = b" " * len(lines[k])
        i = j + 1
    return b"\n".join(lines), found


def parse(path, platform="apple"):
    """All calls of the manifest (nested ones too, in source order), the calls bound to
    constants (`let NAME = .call(...)`, by name) and the syntax problems."""
    source, _ = normalize(path.read_bytes())
    source, platform_problems = select_platform(source, platform)
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    tree = parser.parse(source)
    errors = [f"{path}:{line}:{column}: {what}" for line, column, what in problems(tree, source)]
    errors += platform_problems
    calls = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            call_of(node, calls)  # converts the calls nested in its arguments too
            continue
        stack.extend(reversed(node.children))
    constants = {}
    for number, line in enumerate(source.decode().split("\n"), start=1):
        match = LET_CALL.match(line)
        if match:
            bound = [c for c in calls if c.line == number and c.name == match.group(2)]
            if bound:
                constants[match.group(1)] = bound[0]
    return calls, constants, errors


def package_call(calls):
    """The `Package(...)` call, or None."""
    found = [c for c in calls if c.name == "Package"]
    return found[0] if len(found) == 1 else None


def declared(package, label, constants=None):
    """The calls listed in the Package(...) argument `label` (targets:, products:, ...),
    with the constants of `constants` that the list names replaced by their calls."""
    value = package.get(label, []) if package else []
    if not isinstance(value, list):
        return []
    constants = constants or {}
    listed = []
    for item in value:
        if isinstance(item, Raw) and str(item).strip() in constants:
            item = constants[str(item).strip()]
        if isinstance(item, Call):
            listed.append(item)
    return listed


def strings(value):
    """The string literals in a value (a string, or an array of strings and calls)."""
    if isinstance(value, Raw):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        found = []
        for item in value:
            if isinstance(item, Call) and item.name in ("target", "byName", "product"):
                found.append(item.get("name"))
            else:
                found.extend(strings(item))
        return found
    return []


def version_major(text):
    match = re.fullmatch(r"(\d+)(?:\.0)*", text)
    return match.group(1) if match else None


def check_sdk(path, args):
    calls, constants, found = parse(path, args.platform)
    package = package_call(calls)
    if package is None:
        return found + ["no single Package(...) call"], ""
    targets = declared(package, "targets", constants)
    of_kind = lambda kind: [c for c in targets if c.name == kind]  # noqa: E731
    linux = args.platform == "linux"
    if linux and args.xcframework_path is None:
        return found + ["--platform linux checks the development manifest (--xcframework-path)"], ""

    binaries = of_kind("binaryTarget")
    if linux:
        libraries = of_kind("systemLibrary")
        if binaries:
            found.append(f"line {binaries[0].line}: a binaryTarget in the Linux branch (no XCFramework on Linux)")
        if len(libraries) != 1:
            found.append(f"{len(libraries)} systemLibrary target(s) on Linux, expected 1")
        for library in libraries:
            if library.get("name") != args.ffi_module:
                found.append(f"line {library.line}: systemLibrary name {library.get('name')!r} != ffi_module_name {args.ffi_module!r}")
            if library.get("path") != f"Sources/{args.ffi_module}":
                found.append(f"line {library.line}: systemLibrary path {library.get('path')!r} != 'Sources/{args.ffi_module}' (what build-xcframework.sh --headers-only stages)")
        binaries = []
    elif len(binaries) != 1:
        found.append(f"{len(binaries)} binaryTarget(s), expected 1")
    for binary in binaries:
        if binary.get("name") != args.ffi_module:
            found.append(f"line {binary.line}: binaryTarget name {binary.get('name')!r} != ffi_module_name {args.ffi_module!r}")
        if args.xcframework_path is not None:
            if binary.get("path") != args.xcframework_path:
                found.append(f"line {binary.line}: binaryTarget path {binary.get('path')!r} != {args.xcframework_path!r} (the XCFramework scripts/build-xcframework.sh writes)")
            if binary.get("url") is not None:
                found.append(f"line {binary.line}: a development binaryTarget has a url")
        else:
            url, checksum = binary.get("url"), binary.get("checksum")
            zip_name = f"{args.ffi_module}-{args.release_version}.xcframework.zip"
            if not isinstance(url, str) or isinstance(url, Raw) or not url.endswith("/" + zip_name):
                found.append(f"line {binary.line}: binaryTarget url {url!r} does not end with /{zip_name}")
            elif not url.startswith("https://"):
                found.append(f"line {binary.line}: binaryTarget url {url!r} is not https")
            if not isinstance(checksum, str) or not re.fullmatch(r"[0-9a-f]{64}", checksum):
                found.append(f"line {binary.line}: binaryTarget checksum {checksum!r} is not 64 hex digits")
            if binary.get("path") is not None:
                found.append(f"line {binary.line}: a release binaryTarget has a path")

    modules = [c for c in of_kind("target") if c.get("name") == args.swift_module]
    if len(modules) != 1:
        found.append(f"{len(modules)} target(s) named {args.swift_module!r}, expected 1")
    for target in modules:
        if target.get("path") != f"Sources/{args.swift_module}":
            found.append(f"line {target.line}: target {args.swift_module} path {target.get('path')!r} != 'Sources/{args.swift_module}'")
        if args.ffi_module not in strings(target.get("dependencies", [])):
            found.append(f"line {target.line}: target {args.swift_module} does not depend on {args.ffi_module}")
        resources = target.get("resources", [])
        listed = [r.args[0][1] for r in (resources if isinstance(resources, list) else [])
                  if isinstance(r, Call) and r.name in ("copy", "process") and r.args and r.args[0][0] is None]
        for resource in args.resource or []:
            if resource not in listed:
                found.append(f"line {target.line}: target {args.swift_module} has no resource .copy({resource!r}) or .process({resource!r}) (resources: {resources!r})")
            if not (path.parent / "Sources" / args.swift_module / resource).is_file():
                found.append(f"no Sources/{args.swift_module}/{resource} beside {path.name}")

    libraries = [c for c in declared(package, "products") if c.name == "library" and c.get("name") == args.swift_module]
    if len(libraries) != 1 or strings(libraries[0].get("targets", [])) != [args.swift_module]:
        found.append(f"no library product {args.swift_module!r} with targets [{args.swift_module!r}]")

    for platform, wanted in (("iOS", args.ios), ("macOS", args.macos)):
        if wanted is None:
            continue
        entries = [c for c in declared(package, "platforms") if c.name == platform]
        major = version_major(wanted)
        if len(entries) != 1:
            found.append(f"platforms: {len(entries)} .{platform}(...) entries, expected 1")
        elif major is None or entries[0].args != [(None, Raw(f".v{major}"))]:
            found.append(f"line {entries[0].line}: .{platform}(...) {entries[0].args} does not match the deployment target {wanted} (.v{major})")

    for bad in ("unsafeFlags",) if linux else ("unsafeFlags", "systemLibrary"):
        for call in [c for c in calls if c.name == bad]:
            found.append(f"line {call.line}: .{bad}(...) (a package with it cannot be a dependency / the XCFramework replaces it)")

    tests = of_kind("testTarget")
    if args.tests:
        test = [c for c in tests if c.get("name") == args.tests]
        if len(test) != 1 or args.swift_module not in strings(test[0].get("dependencies", [])):
            found.append(f"no testTarget {args.tests!r} depending on {args.swift_module!r}")
    elif tests:
        found.append(f"line {tests[0].line}: the release manifest has a testTarget")

    if linux:
        ffi = f"systemLibrary {args.ffi_module} at Sources/{args.ffi_module} (Linux)"
    elif args.xcframework_path is not None:
        ffi = f"binaryTarget {args.ffi_module} at {args.xcframework_path}"
    else:
        ffi = f"binaryTarget {args.ffi_module} from {args.ffi_module}-{args.release_version}.xcframework.zip"
    summary = f"{ffi}, target {args.swift_module} depends on it, platforms iOS {args.ios} / macOS {args.macos}"
    if args.resource:
        summary += f", resources {', '.join(args.resource)}"
    return found, summary


def check_consumer(path, args):
    calls, _, found = parse(path)
    directory = path.parent
    packages = {}
    for dependency in [c for c in calls if c.name == "package" and c.get("path") is not None]:
        location = (directory / dependency.get("path")).resolve()
        manifest = location / "Package.swift"
        if not manifest.is_file():
            found.append(f"line {dependency.line}: .package(path: {dependency.get('path')!r}): no Package.swift at {location}")
            continue
        their_calls, _, their_errors = parse(manifest)
        found.extend(their_errors)
        package_calls = [c for c in their_calls if c.name == "Package"]
        names = {location.name}
        if dependency.get("name"):
            names.add(dependency.get("name"))
        if package_calls and package_calls[0].get("name"):
            names.add(package_calls[0].get("name"))
        libraries = {c.get("name") for c in their_calls if c.name == "library"}
        for name in names:
            packages[name] = libraries
    products = [c for c in calls if c.name == "product"]
    for product in products:
        package, name = product.get("package"), product.get("name")
        if package not in packages:
            found.append(f"line {product.line}: .product(name: {name!r}, package: {package!r}): no such local package dependency")
        elif name not in packages[package]:
            found.append(f"line {product.line}: package {package!r} has no library product {name!r} (it has {sorted(packages[package])})")
    return found, f"{len(products)} product reference(s) to {len(packages)} package name(s), all resolved"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sdk = sub.add_parser("sdk")
    sdk.add_argument("manifest", type=pathlib.Path)
    sdk.add_argument("--swift-module", required=True)
    sdk.add_argument("--ffi-module", required=True)
    kind = sdk.add_mutually_exclusive_group(required=True)
    kind.add_argument("--xcframework-path")
    kind.add_argument("--release-version")
    sdk.add_argument("--ios")
    sdk.add_argument("--macos")
    sdk.add_argument("--tests")
    sdk.add_argument("--platform", choices=("apple", "linux"), default="apple")
    sdk.add_argument("--resource", action="append")
    consumer = sub.add_parser("consumer")
    consumer.add_argument("manifest", type=pathlib.Path)
    args = parser.parse_args(argv)

    if not args.manifest.is_file():
        print(f"check_package_manifest: no such file: {args.manifest}", file=sys.stderr)
        return 2
    check = check_sdk if args.command == "sdk" else check_consumer
    found, summary = check(args.manifest, args)
    if found:
        for problem in found:
            print(f"{args.manifest}: {problem}")
        return 1
    print(f"ok {args.manifest}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
