#!/usr/bin/env python3
"""Bytes of code and data per crate in an unstripped library, from `nm -C -S`.

    nm -C --size-sort -S libdigital_otp.so | scripts/size_breakdown.py [TOP]

A symbol is charged to the crate its demangled path starts with (generic code to the
crate that defines it: `alloc::collections::btree` instantiated for our types is
`alloc`). std's backtrace symbolizer (gimli, addr2line, miniz_oxide, rustc_demangle,
std::backtrace*) is its own line: every Rust library with std carries it. Symbols
without a Rust path: UniFFI's metadata and exports; every other plain C symbol is ring's
C and assembly (the only C in the mobile library).
"""

import collections
import re
import sys

BACKTRACE = ("gimli", "addr2line", "backtrace", "rustc_demangle", "miniz_oxide", "adler2")
# Primitive and generic type names that start a path without naming a crate.
GENERIC = {"str", "char", "bool", "f32", "f64", "u8", "u16", "u32", "u64", "u128", "usize",
           "i8", "i16", "i32", "i64", "i128", "isize", "D", "T", "R", "E", "F", "I", "K", "V"}


def crate_of(name: str) -> str:
    if any(marker in name for marker in BACKTRACE):
        return "std backtrace symbolizer"
    text = name
    while text and text[0] in "<&*":
        text = text.lstrip("<&*")
        for word in ("mut ", "const ", "dyn "):
            if text.startswith(word):
                text = text[len(word):]
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", text)
    if match and match.group(1) not in GENERIC:
        return match.group(1)
    # `<str as core::fmt::Debug>::fmt`, `<D as digest::Digest>::digest`: the trait's crate.
    trait = re.search(r" as ([A-Za-z_][A-Za-z0-9_]*)::", name)
    if trait:
        return trait.group(1)
    if text.startswith("UNIFFI_META"):
        return "UniFFI metadata (UNIFFI_META_*)"
    if text.startswith(("uniffi_", "ffi_")):
        return "FFI exports (uniffi_*/ffi_*)"
    if text.startswith("rust_eh_personality"):
        return "std"
    if "::" not in name:
        return "ring (C and assembly)"
    return "other"


def main() -> int:
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    totals: collections.Counter = collections.Counter()
    for line in sys.stdin:
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        try:
            size = int(parts[1], 16)
        except ValueError:
            continue
        totals[crate_of(parts[3].strip())] += size
    if not totals:
        print("size_breakdown: no sized symbols (is the library stripped?)", file=sys.stderr)
        return 1
    total = sum(totals.values())
    print(f"| {'crate':34} | {'bytes':>8} | {'share':>6} |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 8}|")
    for crate, size in totals.most_common(top):
        print(f"| {crate:34} | {size:8} | {100 * size / total:5.1f}% |")
    rest = total - sum(size for _, size in totals.most_common(top))
    if rest:
        print(f"| {'(the rest)':34} | {rest:8} | {100 * rest / total:5.1f}% |")
    print(f"| {'all sized symbols':34} | {total:8} | 100.0% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
