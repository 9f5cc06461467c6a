"""The zarrlib command line: ``python -m zarrlib demo`` tours the library; ``info`` describes it."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zarrlib", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="create, write and read arrays in a temporary directory")
    commands.add_parser("info", help="print the versions, library path and settings")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from . import demo

        demo.main()
    else:
        import zarrlib

        print(f"zarrlib {zarrlib.__version__}")
        print(f"native library {zarrlib.library_version}: {zarrlib.get_library()}")
        print(f"header: {zarrlib.get_include()}/zarrlib.h")
        print(f"backends: {', '.join(zarrlib.backend_names())}")
        print(f"settings: {zarrlib.get_config()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
