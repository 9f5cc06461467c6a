#!/usr/bin/env bash
# A user without Rust installs the wheel: for each interpreter given, a fresh virtual environment
# with a PATH that has no cargo or rustc, `pip install` of the wheel (binaries only: nothing may
# build), then the README's demo, run from an empty directory with the installed package.
#
#   tests/wheel/check_wheel.sh WHEEL PYTHON...
set -euo pipefail
wheel="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift

case "$(basename "$wheel")" in
  zarrlib-*-py3-none-manylinux_*.whl) ;;
  *) echo "not a py3-none manylinux wheel: $wheel" >&2; exit 1 ;;
esac
# The wheel holds the package, the library and its header, and nothing copied in beside them.
python3 - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for needed in ("zarrlib/__init__.py", "zarrlib/libzarrlib.so", "zarrlib/include/zarrlib.h", "zarrlib/py.typed"):
    assert needed in names, f"the wheel lacks {needed}"
grafted = [name for name in names if name.startswith("zarrlib.libs/")]
assert not grafted, f"auditwheel copied libraries into the wheel: {grafted}"
EOF

# Only the system's directories: rustup puts cargo and rustc in ~/.cargo/bin.
system_path=/usr/local/bin:/usr/bin:/bin
for tool in cargo rustc; do
  if PATH="$system_path" command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is on $system_path: this check needs a PATH without Rust" >&2
    exit 1
  fi
done

for python in "$@"; do
  work="$(mktemp -d)"
  "$python" -m venv "$work/venv"
  echo "== $("$work/venv/bin/python" --version): pip install $(basename "$wheel"), then the demo"
  (
    cd "$work"
    export PATH="$work/venv/bin:$system_path"
    unset ZARRLIB_LIBRARY PYTHONPATH CARGO_TARGET_DIR
    python -m pip install --quiet --disable-pip-version-check --only-binary=:all: "$wheel"
    python -m zarrlib demo
    # The library loaded is the wheel's, with its SONAME (programs linking it record that name).
    python - <<'EOF'
import subprocess, sysconfig
from pathlib import Path
import zarrlib
from zarrlib import _native
library = _native.library_path().resolve()
assert library.parent == Path(sysconfig.get_paths()["purelib"]).resolve() / "zarrlib", library
dynamic = subprocess.run(["readelf", "-d", str(library)], check=True, capture_output=True, text=True).stdout
assert "Library soname: [libzarrlib.so]" in dynamic, dynamic
print(f"zarrlib {zarrlib.__version__} from {library}")
EOF
  )
  rm -rf "$work"
done
