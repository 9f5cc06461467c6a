"""The command line: `python -m zarrlib demo` runs its tour; `info` describes the install."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import zarrlib


def run(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "zarrlib", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_prints_its_tour():
    output = run("demo")
    for expected in (
        "v3, zstd:",
        "v3, sharded:",
        "v2, blosc:",
        "equals numpy's: True",
        "counts[248:252, 0] = [ 7  7 -1 -1]",
        "images/",
        "counts is now (520, 300)",
        "'calibrated': True",
        "lists ['images/stack'] without a store listing",
        "stack (64, 512, 512) uint16",
        "zarrlib read",
        "numpy copy of the same bytes",
        "data read back equals what was written: True",
    ):
        assert expected in output, f"{expected!r} missing from:\n{output}"
    assert "False" not in output


def test_info_names_the_library():
    output = run("info")
    assert f"native library {zarrlib.library_version}" in output and "backends: native" in output


def test_unknown_commands_fail():
    result = subprocess.run([sys.executable, "-m", "zarrlib", "nope"], capture_output=True, text=True)
    assert result.returncode != 0 and "invalid choice" in result.stderr


def test_the_readme_python_example_runs(tmp_path):
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "('temperature'," in result.stdout
    assert "(1000, 1000) float32 (250, 250) [7. 7. 7. 7. 7.] {'units': 'K', 'source': 'readme'}" in result.stdout
    assert "counts (100,) int32" in result.stdout


def run_readme_shell_example(tmp_path, marker: str) -> str:
    """Run the README's ``python -c`` example containing ``marker`` as a shell runs it."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = re.findall(r"```sh\n(\s*(?:[A-Z_]+=\S+ )?python -c \"\n.*?)```", readme, re.S)
    (block,) = [block for block in blocks if marker in block]
    command = textwrap.dedent(block)
    # `python` is this interpreter, as in a shell where its environment is active.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=tmp_path, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_readme_s3_example_runs(tmp_path):
    assert "[[1. 0.]\n [0. 1.]]" in run_readme_shell_example(tmp_path, "ThreadedMotoServer")


def test_the_readme_zarr_memory_store_example_runs(tmp_path):
    assert "callbacks [[1. 0.]\n [0. 1.]]" in run_readme_shell_example(tmp_path, "zarr.storage.MemoryStore()")


def test_the_readme_pipeline_example_runs(tmp_path):
    output = run_readme_shell_example(tmp_path, "pipeline_stats()")
    assert output.split()[-1] == "1"  # the array ran on the engine
    assert "[[1. 0.]\n [0. 1.]] [0. 1.]" in output


def test_the_readme_xarray_example_runs(tmp_path):
    assert run_readme_shell_example(tmp_path, "xr.open_zarr").split()[-1] == "71.5"


def test_the_readme_dask_example_runs(tmp_path):
    assert "1e+06 [3. 3. 3.]" in run_readme_shell_example(tmp_path, "zarrlib.to_dask")
