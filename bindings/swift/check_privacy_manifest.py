#!/usr/bin/env python3
"""Checks Apple's privacy manifest of the Swift package (PrivacyInfo.xcprivacy), without Xcode.

    check_privacy_manifest.py MANIFEST [--library LIB.a --nm llvm-nm]

MANIFEST must be an XML property list (plistlib) holding only the keys Apple defines for a
privacy manifest, with their types: NSPrivacyTracking (a boolean; when false, no
NSPrivacyTrackingDomains), NSPrivacyTrackingDomains (strings), NSPrivacyCollectedDataTypes
(dictionaries) and NSPrivacyAccessedAPITypes (one dictionary per required-reason API
category: NSPrivacyAccessedAPIType, one of Apple's five categories, and
NSPrivacyAccessedAPITypeReasons, a non-empty list of that category's approved reasons).

With --library: the undefined symbols of that static library (what App Store Connect's scan
matches) are read with NM, and the categories declared must be exactly those whose C
functions the library references (a missing category is ITMS-91053 at upload; an extra one
is a declaration nothing needs).

Prints `ok MANIFEST: ...` or one line per problem; exit status 0 or 1 (2: bad usage).
"""

import argparse
import pathlib
import plistlib
import subprocess
import sys

# Apple's required-reason API categories, their approved reasons, and the C-level functions
# of each (the Objective-C and Swift members of the lists, e.g. NSFileManager's
# creationDate or NSProcessInfo's systemUptime, are not C symbols; User defaults is the
# class NSUserDefaults).
CATEGORIES = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": (
        {"DDA9.1", "C617.1", "3B52.1", "0A2A.1"},
        {"stat", "fstat", "fstatat", "lstat", "getattrlist", "fgetattrlist", "getattrlistat", "getattrlistbulk"},
    ),
    "NSPrivacyAccessedAPICategorySystemBootTime": (
        {"35F9.1", "8FFB.1", "3D61.1"},
        {"mach_absolute_time"},
    ),
    "NSPrivacyAccessedAPICategoryDiskSpace": (
        {"85F4.1", "E174.1", "7D9E.1", "B728.1"},
        {"statfs", "statvfs", "fstatfs", "fstatvfs"},
    ),
    "NSPrivacyAccessedAPICategoryActiveKeyboards": (
        {"3EC4.1", "54BD.1"},
        set(),
    ),
    "NSPrivacyAccessedAPICategoryUserDefaults": (
        {"CA92.1", "1C8F.1", "C56D.1", "AC6B.1"},
        {"OBJC_CLASS_$_NSUserDefaults"},
    ),
}
KEYS = {
    "NSPrivacyTracking": bool,
    "NSPrivacyTrackingDomains": list,
    "NSPrivacyCollectedDataTypes": list,
    "NSPrivacyAccessedAPITypes": list,
}


def check_manifest(path):
    """(problems, the declared categories)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            f.seek(0)
            manifest = plistlib.load(f)
    except (plistlib.InvalidFileException, ValueError, OSError) as e:
        return [f"not a property list: {e}"], set()
    problems = []
    if not head.lstrip().startswith(b"<?xml"):
        problems.append("not an XML property list (Xcode writes and reads them as XML)")
    if not isinstance(manifest, dict):
        return problems + [f"the root is a {type(manifest).__name__}, not a dictionary"], set()
    for key in sorted(set(manifest) - set(KEYS)):
        problems.append(f"unknown key {key}")
    for key, kind in KEYS.items():
        if key not in manifest:
            problems.append(f"no {key}")
        elif not isinstance(manifest[key], kind):
            problems.append(f"{key} is a {type(manifest[key]).__name__}, not a {kind.__name__}")
    domains = manifest.get("NSPrivacyTrackingDomains", [])
    if isinstance(domains, list):
        if not all(isinstance(d, str) for d in domains):
            problems.append("NSPrivacyTrackingDomains holds something other than strings")
        if manifest.get("NSPrivacyTracking") is False and domains:
            problems.append("NSPrivacyTracking is false but NSPrivacyTrackingDomains is not empty")
    collected = manifest.get("NSPrivacyCollectedDataTypes", [])
    if isinstance(collected, list) and not all(isinstance(c, dict) for c in collected):
        problems.append("NSPrivacyCollectedDataTypes holds something other than dictionaries")
    declared = set()
    accessed = manifest.get("NSPrivacyAccessedAPITypes", [])
    for i, entry in enumerate(accessed if isinstance(accessed, list) else []):
        where = f"NSPrivacyAccessedAPITypes[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} is not a dictionary")
            continue
        extra = set(entry) - {"NSPrivacyAccessedAPIType", "NSPrivacyAccessedAPITypeReasons"}
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        category = entry.get("NSPrivacyAccessedAPIType")
        reasons = entry.get("NSPrivacyAccessedAPITypeReasons")
        if category not in CATEGORIES:
            problems.append(f"{where}: {category!r} is not a required-reason API category")
            continue
        if category in declared:
            problems.append(f"{where}: {category} declared twice")
        declared.add(category)
        if not isinstance(reasons, list) or not reasons:
            problems.append(f"{where}: {category} without reasons")
            continue
        for reason in reasons:
            if reason not in CATEGORIES[category][0]:
                problems.append(f"{where}: {reason!r} is not an approved reason for {category}")
    return problems, declared


def referenced_categories(library, nm):
    """The categories whose functions the library references, with those functions."""
    # Not check=True: an older llvm-nm reports errors for the archive's bitcode members
    # (compiler_builtins) and exits 1, having listed the Mach-O objects' symbols.
    result = subprocess.run([nm, "-u", library], capture_output=True, text=True)
    out = result.stdout
    if not out.strip():
        raise subprocess.CalledProcessError(result.returncode, [nm, "-u", str(library)], out, result.stderr)
    # Mach-O symbols carry a leading underscore; x86_64 macOS names some $INODE64 variants.
    names = {line.split()[-1].lstrip("_").split("$INODE64")[0] for line in out.splitlines() if line.strip() and not line.endswith(":")}
    found = {}
    for category, (_, functions) in CATEGORIES.items():
        used = sorted(names & functions)
        if used:
            found[category] = used
    return found, len(names)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=pathlib.Path)
    parser.add_argument("--library", type=pathlib.Path)
    parser.add_argument("--nm", default="llvm-nm")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        print(f"check_privacy_manifest: no such file: {args.manifest}", file=sys.stderr)
        return 2
    problems, declared = check_manifest(args.manifest)
    summary = f"declares {', '.join(sorted(c.removeprefix('NSPrivacyAccessedAPICategory') for c in declared)) or 'no required-reason API'}"
    if args.library is not None:
        try:
            used, count = referenced_categories(args.library, args.nm)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"check_privacy_manifest: {args.nm} -u {args.library}: {e}", file=sys.stderr)
            return 2
        for category in sorted(set(used) - declared):
            problems.append(f"{args.library} references {', '.join(used[category])} but {category} is not declared")
        for category in sorted(declared - set(used)):
            problems.append(f"{category} is declared but {args.library} references none of its functions")
        listed = "; ".join(f"{c.removeprefix('NSPrivacyAccessedAPICategory')}: {', '.join(f)}" for c, f in sorted(used.items()))
        summary += f", exactly what {args.library.name} references ({listed or 'nothing'}; {count} undefined symbols)"
    if problems:
        for problem in problems:
            print(f"{args.manifest}: {problem}")
        return 1
    print(f"ok {args.manifest}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
