#!/usr/bin/env python3
"""Parses Swift files with tree-sitter-swift and fails on any ERROR or MISSING node.

    check_swift_syntax.py PATH...     # files, or directories searched for *.swift

There is no Swift compiler on the Linux development machines; this is the syntax
check that can run there (scripts/test-swift-static.sh runs it with the .venv made
by scripts/setup-python.sh). Each problem is printed as `file:line:column: ...`.
Exit status 0 when every file parses cleanly, 1 otherwise, 2 on bad usage.

Two constructs are valid Swift, and emitted by UniFFI, but not supported by the
tree-sitter-swift grammar; they are rewritten before parsing into equivalent code
of the same length (line and column numbers do not move):

1. An `#if` block that holds nothing but attributes, in front of a declaration
   (SE-0367), found throughout UniFFI's generated code:

       #if swift(>=5.8)
       @_documentation(visibility: private)
       #endif
       public struct FfiConverterTypeTotp: FfiConverter {

   The block's `#if`/`#endif` lines are blanked; the attributes stay and are
   parsed as attributes of the declaration. An `#if` block holding anything
   else is left as it is.

2. A closure whose whole body is the empty tuple, `{ () }` (the grammar has no
   empty-tuple expression), as in UniFFI's callback-interface code
   `let writeReturn = { () }`. It becomes the empty closure `{    }`, which
   also returns `()`.

`--strict` turns both rewrites off.
"""

import argparse
import pathlib
import re
import sys

import tree_sitter
import tree_sitter_swift

SKIPPED_DIRECTORIES = {".build", ".swiftpm", "DerivedData", "node_modules"}
IF_LINE = re.compile(rb"^[ \t]*#if\b")
ENDIF_LINE = re.compile(rb"^[ \t]*#endif\b[ \t]*(//.*)?$")
ATTRIBUTE_LINE = re.compile(rb"^[ \t]*@[A-Za-z_][A-Za-z0-9_]*(\([^()]*\))?[ \t]*$")
EMPTY_TUPLE_CLOSURE = re.compile(rb"\{([ \t]*)\(\)([ \t]*)\}")


def swift_files(paths):
    """Every .swift file named or under a named directory, sorted, without duplicates."""
    found = set()
    for path in paths:
        p = pathlib.Path(path)
        if p.is_dir():
            for f in p.rglob("*.swift"):
                if not SKIPPED_DIRECTORIES.intersection(f.relative_to(p).parts):
                    found.add(f)
        elif p.is_file():
            found.add(p)
        else:
            raise FileNotFoundError(path)
    return sorted(found)


def flatten_conditional_attributes(source):
    """Blanks the #if/#endif lines of blocks that contain only attribute lines.

    Returns the new source and the number of blocks flattened. Byte offsets and
    line numbers are unchanged (each blanked byte becomes a space)."""
    lines = source.split(b"\n")
    count = 0
    i = 0
    while i < len(lines):
        if IF_LINE.match(lines[i]):
            j = i + 1
            while j < len(lines) and ATTRIBUTE_LINE.match(lines[j]):
                j += 1
            if j > i + 1 and j < len(lines) and ENDIF_LINE.match(lines[j]):
                lines[i] = b" " * len(lines[i])
                lines[j] = b" " * len(lines[j])
                count += 1
                i = j
        i += 1
    return b"\n".join(lines), count


def empty_the_empty_tuple_closures(source):
    """Rewrites `{ () }` as `{    }`; returns the new source and the count."""
    def blank(match):
        return b"{" + b" " * (len(match.group(0)) - 2) + b"}"

    return EMPTY_TUPLE_CLOSURE.subn(blank, source)


def normalize(source):
    """Both rewrites of the module docstring; returns the source and a note."""
    source, attribute_blocks = flatten_conditional_attributes(source)
    source, closures = empty_the_empty_tuple_closures(source)
    notes = []
    if attribute_blocks:
        notes.append(f"{attribute_blocks} attribute-only #if blocks flattened")
    if closures:
        notes.append(f"{closures} {{ () }} closures emptied")
    return source, "; ".join(notes)


def problems(tree, source):
    """(line, column, description) of every ERROR and MISSING node, 1-based."""
    found = []
    lines = source.split(b"\n")
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            row, col = node.start_point
            found.append((row + 1, col + 1, f"MISSING {node.type!r}"))
            continue
        if node.is_error:
            row, col = node.start_point
            text = lines[row][col : col + 60].decode("utf-8", "replace").strip()
            found.append((row + 1, col + 1, f"syntax ERROR at {text!r}"))
            # Keep looking inside: a MISSING node within is reported too.
        if node.has_error or node.is_error:
            stack.extend(reversed(node.children))
    return sorted(found)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="Swift files or directories")
    parser.add_argument("--strict", action="store_true",
                        help="parse the files as they are, without the two rewrites")
    args = parser.parse_args(argv)

    try:
        files = swift_files(args.paths)
    except FileNotFoundError as missing:
        print(f"check_swift_syntax: no such file or directory: {missing}", file=sys.stderr)
        return 2
    if not files:
        print("check_swift_syntax: no .swift files found", file=sys.stderr)
        return 2

    swift = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    failed = 0
    for path in files:
        source = path.read_bytes()
        note = ""
        if not args.strict:
            source, note = normalize(source)
        tree = swift.parse(source)
        found = problems(tree, source)
        if tree.root_node.type != "source_file":
            found.append((1, 1, f"unexpected root node {tree.root_node.type!r}"))
        note = f" ({note})" if note else ""
        if found:
            failed += 1
            print(f"FAIL {path}{note}")
            for line, column, description in found[:50]:
                print(f"  {path}:{line}:{column}: {description}")
            if len(found) > 50:
                print(f"  ... and {len(found) - 50} more")
        else:
            print(f"ok   {path}{note}")
    print(f"swift syntax: {len(files) - failed} of {len(files)} files parse cleanly")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
