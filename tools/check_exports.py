#!/usr/bin/env python3
"""Check that the header and the built library agree: every function include/zarrlib.h declares
is exported by the library, and every exported `zarrlib_` symbol is declared.

usage: check_exports.py HEADER LIBRARY
"""

import re
import subprocess
import sys

# A declaration in the generated header: return type, then `zarrlib_name(`.
DECLARATION = re.compile(r"^[A-Za-z_][\w \*]*?\b(zarrlib_\w+)\(", re.MULTILINE)


def declared_functions(header_text: str) -> set[str]:
    without_comments = re.sub(r"/\*.*?\*/", "", header_text, flags=re.DOTALL)
    return set(DECLARATION.findall(without_comments))


def exported_functions(library: str) -> set[str]:
    listing = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True, text=True).stdout
    symbols = set()
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "T" and parts[2].startswith("zarrlib_"):
            symbols.add(parts[2])
    return symbols


def main() -> int:
    header, library = sys.argv[1:3]
    with open(header, encoding="utf-8") as f:
        declared = declared_functions(f.read())
    exported = exported_functions(library)
    missing = sorted(declared - exported)
    undeclared = sorted(exported - declared)
    for name in missing:
        print(f"declared in the header but not exported: {name}")
    for name in undeclared:
        print(f"exported but not declared in the header: {name}")
    if not declared:
        print("no declarations found in the header")
        return 1
    print(f"{len(declared)} functions declared, {len(exported)} exported")
    return 1 if missing or undeclared else 0


if __name__ == "__main__":
    sys.exit(main())
