"""Loading the native library: the header's declarations, versions, and failures to load."""

from __future__ import annotations

import ctypes.util
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cffi
import pytest
import tomllib

import zarrlib
from zarrlib import _native

REPO = Path(__file__).resolve().parent.parent.parent
REPO_HEADER = REPO / "include" / "zarrlib.h"

# A function declaration at the start of a line (comment lines start with "/" or " *").
_FUNCTION = re.compile(r"^[A-Za-z_][\w \t\*]*?\b(zarrlib_\w+)\s*\(", re.MULTILINE)
_VERSION_MACRO = re.compile(r"^#define\s+ZARRLIB_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)\s*$", re.MULTILINE)


def header_functions(text: str) -> set[str]:
    return set(_FUNCTION.findall(text))


def header_version(text: str) -> str:
    parts = dict(_VERSION_MACRO.findall(text))
    assert set(parts) == {"MAJOR", "MINOR", "PATCH"}, parts
    return f"{parts['MAJOR']}.{parts['MINOR']}.{parts['PATCH']}"


@pytest.fixture(scope="module")
def header_text() -> str:
    if not REPO_HEADER.is_file():
        pytest.skip(f"{REPO_HEADER} is not in this checkout")
    return REPO_HEADER.read_text(encoding="utf-8")


# --- declarations -------------------------------------------------------------------------


def test_header_declares_functions(header_text):
    names = header_functions(header_text)
    # The regex must find the functions the library is known to have, or it tests nothing.
    for known in ("zarrlib_version", "zarrlib_status_name", "zarrlib_store_open", "zarrlib_array_read_chunk"):
        assert known in names
    assert len(names) > 30


def test_cdef_from_header_declares_every_function(header_text):
    names = header_functions(header_text)
    cdef = _native.cdef_from_header(header_text)
    assert "#include" not in cdef
    assert 'extern "C"' not in cdef
    ffi = cffi.FFI()
    ffi.cdef(cdef)  # raises if cffi cannot read it
    lib = ffi.dlopen(zarrlib.get_library())
    declared = set(dir(lib))
    missing = names - declared
    assert not missing, f"cdef_from_header dropped {sorted(missing)}"
    for name in sorted(names):
        function = getattr(lib, name)  # AttributeError if the symbol is not in the library
        assert ffi.typeof(function).kind == "function", name
    # The integer version macros survive as constants.
    assert f"{lib.ZARRLIB_VERSION_MAJOR}.{lib.ZARRLIB_VERSION_MINOR}.{lib.ZARRLIB_VERSION_PATCH}" == header_version(
        header_text
    )


def test_every_header_function_is_on_the_loaded_library(header_text):
    for name in sorted(header_functions(header_text)):
        assert callable(getattr(_native.lib, name)), name


def test_packaged_header_is_the_repository_header(header_text):
    packaged = Path(zarrlib.get_include()) / "zarrlib.h"
    assert packaged.is_file()
    assert packaged.read_bytes() == REPO_HEADER.read_bytes()


def test_get_include_and_get_library():
    include = Path(zarrlib.get_include())
    assert include.is_dir()
    assert (include / "zarrlib.h").is_file()
    library = Path(zarrlib.get_library())
    assert library.is_file()
    assert library == _native.library_path()


# --- versions -----------------------------------------------------------------------------


def test_library_version_matches_header_and_package(header_text):
    version = _native.ffi.string(_native.lib.zarrlib_version()).decode()
    assert version == header_version(header_text)
    assert version == zarrlib.library_version == _native.LIBRARY_VERSION
    assert version == zarrlib.__version__
    lib = _native.lib
    assert version == f"{lib.ZARRLIB_VERSION_MAJOR}.{lib.ZARRLIB_VERSION_MINOR}.{lib.ZARRLIB_VERSION_PATCH}"


def test_one_version_everywhere():
    """The version is written once, in native/Cargo.toml: the library, the header, the package
    metadata (pyproject.toml reads it from there) and CMake's project all carry it."""
    cargo = REPO / "native" / "Cargo.toml"
    if not cargo.is_file():
        pytest.skip("native/Cargo.toml is not in this checkout")
    with cargo.open("rb") as f:
        cargo_version = tomllib.load(f)["package"]["version"]
    assert zarrlib.library_version == zarrlib.__version__ == cargo_version
    assert importlib.metadata.version("zarrlib") == cargo_version
    with (REPO / "pyproject.toml").open("rb") as f:
        pyproject = tomllib.load(f)
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["scikit-build"]["metadata"]["version"]["input"] == "native/Cargo.toml"
    cmake = (REPO / "CMakeLists.txt").read_text()
    assert "project(zarrlib VERSION ${ZARRLIB_VERSION}" in cmake


# --- failures to load, in a fresh interpreter ---------------------------------------------


def import_in_subprocess(cwd: Path, **env_changes: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("ZARRLIB_LIBRARY", None)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-c", "import zarrlib"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def import_error_message(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, "import zarrlib succeeded"
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: "), result.stderr
    return last


def test_import_succeeds_in_subprocess(tmp_path):
    result = import_in_subprocess(tmp_path)
    assert result.returncode == 0, result.stderr


def test_missing_library_override(tmp_path):
    missing = "/nonexistent/libzarrlib.so"
    message = import_error_message(import_in_subprocess(tmp_path, ZARRLIB_LIBRARY=missing))
    assert missing in message


def test_library_override_that_is_not_a_library(tmp_path):
    garbage = tmp_path / "libgarbage.so"
    garbage.write_bytes(b"this is not an ELF file\0" * 64)
    message = import_error_message(import_in_subprocess(tmp_path, ZARRLIB_LIBRARY=str(garbage)))
    assert str(garbage) in message
    assert "could not be loaded" in message


def _real_libc() -> Path | None:
    # The C library this interpreter has loaded: the right architecture by construction (a
    # machine with 32-bit libraries also lists /lib32/libc.so.6, which cannot be loaded here).
    maps = Path("/proc/self/maps")
    if maps.is_file():
        for line in maps.read_text().splitlines():
            path = line.split()[-1]
            if re.search(r"/libc(\.so|-[0-9.]+\.so)", path) and os.path.isfile(path):
                return Path(path).resolve()
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    if os.path.isabs(name) and os.path.isfile(name):
        return Path(name).resolve()
    candidates = [
        Path(d) / name
        for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")
    ]
    ldconfig = shutil.which("ldconfig") or ("/sbin/ldconfig" if os.path.exists("/sbin/ldconfig") else None)
    if ldconfig:
        try:
            listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            listing = ""
        for line in listing.splitlines():
            if line.strip().startswith(name + " ") and "=>" in line:
                candidates.append(Path(line.split("=>", 1)[1].strip()))
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    return None


def test_library_override_that_is_not_zarrlib(tmp_path):
    libc = _real_libc()
    if libc is None:
        pytest.skip("no C library file found")
    message = import_error_message(import_in_subprocess(tmp_path, ZARRLIB_LIBRARY=str(libc)))
    assert "is not a zarrlib library" in message
    assert str(libc) in message


def test_version_mismatch(tmp_path):
    package = Path(zarrlib.__file__).parent
    copy = tmp_path / "site" / "zarrlib"
    shutil.copytree(package, copy, symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    header = copy / "include" / "zarrlib.h"
    text = header.read_text(encoding="utf-8")
    minor = int(re.search(r"^#define ZARRLIB_VERSION_MINOR (\d+)$", text, re.MULTILINE).group(1))
    other_minor = minor + 41
    edited = re.sub(
        r"^#define ZARRLIB_VERSION_MINOR \d+$", f"#define ZARRLIB_VERSION_MINOR {other_minor}", text, flags=re.MULTILINE
    )
    assert edited != text
    header.write_text(edited, encoding="utf-8")

    result = import_in_subprocess(tmp_path, PYTHONPATH=str(copy.parent))
    message = import_error_message(result)
    major, _, patch = zarrlib.library_version.split(".")
    assert zarrlib.library_version in message
    assert f"{major}.{other_minor}.{patch}" in message
    # It was the copy that failed, not the installed package.
    assert str(copy) in message
