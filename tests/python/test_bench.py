"""tools/bench.py keeps working: a tiny run of every layout and operation, results checked."""

from __future__ import annotations

import importlib.util
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


def test_the_scaling_benchmark_runs_each_size_and_thread_count(tmp_path):
    out, png = tmp_path / "scaling.json", tmp_path / "scaling.png"
    command = [
        sys.executable,
        str(BENCH),
        "--scaling",
        "--sizes",
        "8,16",
        "--scaling-threads",
        "1,2",
        "--chunks",
        "8",
        "--inner",
        "4",
        "--repeats",
        "1",
        "--impls",
        "zarrlib,zarr-python",
        "--json",
        str(out),
        "--png",
        str(png),
        "--tmpdir",
        str(tmp_path / "data"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stdout
    document = json.loads(out.read_text())
    assert [(run["size"], run["threads"]) for run in document["runs"]] == [(8, 1), (8, 2), (16, 1), (16, 2)]
    for run in document["runs"]:
        measured = {(r["layout"], r["operation"], r["implementation"]) for r in run["results"] if r.get("seconds")}
        for layout in ("raw", "zstd"):
            for operation in ("read_all", "write_all", "read_chunks", "write_chunks"):
                assert {(layout, operation, "zarrlib"), (layout, operation, "zarr-python")} <= measured
    # The second thread count of a size read the layouts the first one wrote.
    assert result.stdout.count("reusing the layout written before") == 2 * 2
    # The chart needs matplotlib (the bench extra); without it the run says so and goes on.
    charts = importlib.util.find_spec("matplotlib") is not None
    assert png.exists() == charts
    # The table and the chart can be made again from the JSON alone, and documents merged: a later
    # document's run of a size and thread count replaces the earlier one's.
    later = dict(document, runs=[dict(document["runs"][0], elapsed_s=-1.0)])
    (tmp_path / "later.json").write_text(json.dumps(later))
    merged = tmp_path / "merged.json"
    again = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--scaling-from",
            f"{out},{tmp_path / 'later.json'}",
            "--json",
            str(merged),
            "--png",
            str(tmp_path / "again.png"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert "exponent" in again.stdout
    runs = json.loads(merged.read_text())["runs"]
    assert [(run["size"], run["threads"], run["elapsed_s"] == -1.0) for run in runs] == [
        (8, 1, True),
        (8, 2, False),
        (16, 1, False),
        (16, 2, False),
    ]
    assert (tmp_path / "again.png").exists() == charts


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
