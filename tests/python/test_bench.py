"""tools/bench.py keeps working: a tiny run of every layout and operation, results checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "tools" / "bench.py"


def test_a_tiny_benchmark_runs_every_operation(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--shape",
            "32",
            "--chunks",
            "8",
            "--inner",
            "4",
            "--repeats",
            "1",
            "--small-reads",
            "5",
            "--inner-calls",
            "2",
            "--impls",
            "zarrlib,zarrlib-func,zarr-python",
            "--no-memory",
            "--json",
            str(out),
            "--tmpdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stdout
    rows = json.loads(out.read_text())["results"]
    measured = {(r["layout"], r["operation"]) for r in rows if r["implementation"] == "zarrlib" and r.get("seconds")}
    for layout in ("raw", "zstd", "blosc", "sharded"):
        for operation in ("read_all", "write_all", "read_chunks", "write_chunks", "strided", "small_reads"):
            assert (layout, operation) in measured
    assert ("sharded", "inner_chunk") in measured


def test_the_lock_benchmark_runs(tmp_path):
    out = tmp_path / "locks.json"
    result = subprocess.run(
        [sys.executable, str(BENCH.parent / "bench_locks.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(out.read_text())["results"]
    assert results["locked"].keys() == results["unlocked"].keys() >= {"write_chunk", "write_element", "4 processes"}
    assert all(seconds > 0 for row in results.values() for seconds in row.values())


def test_the_dask_benchmark_runs(tmp_path):
    out = tmp_path / "dask.json"
    result = subprocess.run(
        [sys.executable, str(BENCH.parent / "bench_dask.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    found = {(row["scheduler"], row["tasks_per"], row["tasks"]) for row in json.loads(out.read_text())}
    assert found == {
        (scheduler, per, tasks)
        for scheduler in ("distributed", "threads")
        for per, tasks in (("shard", 4), ("inner chunk", 16))
    }
