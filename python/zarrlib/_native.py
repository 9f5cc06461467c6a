"""Loading the native library with cffi (ABI mode) and calling it.

The declarations come from the header the library was built from, shipped inside the package
(``zarrlib/include/zarrlib.h``). cffi's ``cdef`` cannot read preprocessor lines or the
``extern "C"`` block, so :func:`cdef_from_header` strips those, keeping the integer version
macros. Loading checks that the library's version is the header's and raises ImportError with
the reason when the library is missing or mismatched.

``ZARRLIB_LIBRARY`` in the environment names another library file to load (for developers).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cffi

from . import errors

PACKAGE_DIR = Path(__file__).absolute().parent
HEADER_PATH = PACKAGE_DIR / "include" / "zarrlib.h"

_LIBRARY_NAMES = {"darwin": "libzarrlib.dylib", "win32": "zarrlib.dll"}
LIBRARY_NAME = _LIBRARY_NAMES.get(sys.platform, "libzarrlib.so")

# Preprocessor lines cffi accepts: `#define NAME <integer>`.
_INTEGER_DEFINE = re.compile(r"^#define\s+\w+\s+-?\d+\s*$")
# The C++ guard around the declarations.
_CXX_GUARD_LINES = {'extern "C" {', '}  // extern "C"'}


def cdef_from_header(text: str) -> str:
    """The header's declarations in the form cffi's ``cdef`` reads."""
    kept = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in _CXX_GUARD_LINES:
            continue
        if stripped.startswith("#") and not _INTEGER_DEFINE.match(stripped):
            continue
        kept.append(line)
    return "\n".join(kept)


def library_path() -> Path:
    """The library file this package loads."""
    override = os.environ.get("ZARRLIB_LIBRARY")
    return Path(override) if override else PACKAGE_DIR / LIBRARY_NAME


# cffi has no type information: ``ffi`` and ``lib`` are typed Any.
def _load() -> tuple[Any, Any, str]:
    if not HEADER_PATH.is_file():
        raise ImportError(f"zarrlib is not installed correctly: {HEADER_PATH} is missing")
    ffi = cffi.FFI()
    ffi.cdef(cdef_from_header(HEADER_PATH.read_text(encoding="utf-8")))
    path = library_path()
    if not path.is_file():
        raise ImportError(
            f"the zarrlib native library is missing: {path} does not exist "
            "(install the package with pip, which builds it, or set ZARRLIB_LIBRARY)"
        )
    try:
        lib = ffi.dlopen(str(path))
    except OSError as err:
        raise ImportError(f"the zarrlib native library at {path} could not be loaded: {err}") from err
    header_version = f"{lib.ZARRLIB_VERSION_MAJOR}.{lib.ZARRLIB_VERSION_MINOR}.{lib.ZARRLIB_VERSION_PATCH}"
    try:
        library_version = ffi.string(lib.zarrlib_version()).decode()
    except AttributeError as err:  # not a zarrlib library at all
        raise ImportError(f"{path} is not a zarrlib library: {err}") from err
    if library_version != header_version:
        raise ImportError(
            f"the zarrlib native library at {path} is version {library_version}, "
            f"but the package was built for {header_version}: reinstall zarrlib"
        )
    return ffi, lib, library_version


ffi: Any
lib: Any
LIBRARY_VERSION: str
ffi, lib, LIBRARY_VERSION = _load()


def last_error(status: int) -> errors.ZarrlibError:
    """The exception for a failed call's status, with this thread's last error message."""
    length = lib.zarrlib_last_error_length()
    buffer = ffi.new("char[]", max(length, 1))
    lib.zarrlib_last_error_message(buffer, length)
    message: str = ffi.string(buffer).decode("utf-8", "replace")
    name: str = ffi.string(lib.zarrlib_status_name(status)).decode()
    return errors.error_for_status(status, name, message or name)


def check(status: int) -> None:
    """Raise the exception for a status other than ZARRLIB_OK."""
    if status != 0:
        raise last_error(status)


def call_for_string(function: Callable[..., int], *args: Any) -> str:
    """Call a native function whose last argument receives a library-owned string."""
    out = ffi.new("char **")
    check(function(*args, out))
    try:
        text: str = ffi.string(out[0]).decode("utf-8")
        return text
    finally:
        lib.zarrlib_string_free(out[0])


def encode(text: object, what: str) -> bytes:
    """A str argument as the NUL-terminated UTF-8 the library takes."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    if "\0" in text:
        raise errors.InvalidArgumentError(f"{what} contains a NUL character")
    return text.encode("utf-8")
