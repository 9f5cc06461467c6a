# Sourced by tools/run_tests, tools/build_wheel and .ci/run: the Python interpreters the tests use.
#
# The Python suite runs twice: on Python 3.11 with zarr-python 3.1 (the newest line there: 3.2 and
# later need Python 3.12), and on Python 3.13 with the newest zarr-python release. When zarr-python
# releases a new line, raise ZARRLIB_ZARR_NEWEST and the pins in pyproject.toml's extras together.
ZARRLIB_PYTHON_OLDEST=3.11
ZARRLIB_ZARR_OLDEST="zarr>=3.1,<3.2"
ZARRLIB_PYTHON_NEWEST=3.13
ZARRLIB_ZARR_NEWEST="zarr>=3.4,<3.5"

# The interpreter for Python $1 (say 3.13), printed: `python3.13` on PATH, else pyenv's build of it.
# pyenv's shims stand on PATH for every version it has, runnable or not, so each candidate is run.
python_for() {
  local version=$1 candidate root
  root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  for candidate in "$(command -v "python$version" 2>/dev/null || true)" "$root"/versions/"$version".*/bin/python"$version"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -c "import sys, venv; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '$version')" 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Python $version is needed (with venv); .ci/run installs it with pyenv" >&2
  return 1
}
