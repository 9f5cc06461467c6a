"""Crash consistency of the directory store: a child process writing regions, whole chunks and
attributes is killed with SIGKILL at a random moment, again and again, on one store.

After each kill every chunk holds entirely its content before the interrupted operation or
entirely its content after it (checked chunk by chunk against a numpy model replayed from the
writer's log), every metadata document parses, the attributes are the old or the new ones, and
the temporary files a killed writer leaves behind show as no child and are removed with their
node. 20 kills by default, 200 in the thorough profile (``ZARRLIB_HYPOTHESIS_PROFILE=thorough``).
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

import zarrlib
from reliability import CRASH_CHUNKS, CRASH_SHAPE, crash_arrays, operation, start_child

THOROUGH = os.environ.get("ZARRLIB_HYPOTHESIS_PROFILE") == "thorough"
TRIALS = 200 if THOROUGH else 20
#: The kill comes at a uniformly random time this long after the writer is ready.
MAX_DELAY = 0.3
TEMPORARY = re.compile(r"^\..+\.zarrlib-\d+-\d+\.tmp$")
DOCUMENTS = {"zarr.json", ".zarray", ".zattrs", ".zgroup"}


def apply(model: dict, attrs: dict, op: dict) -> None:
    if op["kind"] == "attributes":
        attrs[op["name"]] = op["attrs"]
    else:
        model[op["name"]][op["region"]] = op["value"]


def read_log(path: Path) -> tuple[int | None, bool]:
    """The last generation the writer began, and whether it ended it."""
    lines = path.read_text().split() if path.exists() else []
    words = list(zip(lines[::2], lines[1::2], strict=True))
    if not words:
        return None, False
    last_began = max(int(g) for w, g in words if w == "begin")
    return last_began, ("end", str(last_began)) in words


def chunk_regions():
    for i in range(CRASH_SHAPE[0] // CRASH_CHUNKS[0]):
        for j in range(CRASH_SHAPE[1] // CRASH_CHUNKS[1]):
            yield (slice(i * 64, i * 64 + 64), slice(j * 64, j * 64 + 64))


def check_files(directory: Path, leftovers: set[Path]) -> None:
    """Every metadata document parses; temporary files are collected."""
    for root, _, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            if name in DOCUMENTS:
                json.loads(path.read_text())
            elif TEMPORARY.match(name):
                leftovers.add(path)


def check_store(store, directory: Path, old: tuple[dict, dict], new: tuple[dict, dict], stats: Counter, leftovers):
    """Check the store against the states before and after the interrupted operation; return the
    state it is in (the model for the next round)."""
    check_files(directory, leftovers)
    arrays = crash_arrays()
    actual_model, actual_attrs = {}, {}
    for name, doc in arrays.items():
        actual = zarrlib.read_region(doc, store, name, ...)
        for region in chunk_regions():
            block, before, after = actual[region], old[0][name][region], new[0][name][region]
            if np.array_equal(block, before):
                stats["chunks old"] += not np.array_equal(before, after)
            elif np.array_equal(block, after):
                stats["chunks new"] += 1
            else:
                raise AssertionError(f"chunk {region} of {name} is neither its old nor its new content")
        actual_model[name] = actual
        attributes = zarrlib.read_metadata(store, name).get("attributes", {})
        assert attributes in (old[1][name], new[1][name])
        actual_attrs[name] = attributes
    # Temporary files are no nodes.
    assert [path for path, _ in zarrlib.list_children(store, "")] == ["v2", "v3"]
    return actual_model, actual_attrs


def test_killed_writers_leave_every_chunk_old_or_new(tmp_path):
    directory = tmp_path / "crash.zarr"
    store = zarrlib.open_store(directory)
    zarrlib.create_overwrite_group(zarrlib.group_metadata(), store, "")
    for name, doc in crash_arrays().items():
        zarrlib.create_overwrite_array(doc, store, name)
    model = {name: np.zeros(CRASH_SHAPE) for name in crash_arrays()}
    attrs: dict = {name: {} for name in crash_arrays()}
    rng = random.Random(14)
    generation, stats, leftovers = 1, Counter(), set()
    started = time.perf_counter()
    for trial in range(TRIALS):
        log = tmp_path / f"log-{trial}"
        child = start_child("crash-writer", directory, log, generation)
        time.sleep(rng.uniform(0, MAX_DELAY))
        child.kill()
        child.wait()
        began, ended = read_log(log)
        if began is None:
            stats["killed before writing"] += 1
            continue
        complete = began if ended else began - 1
        for g in range(generation, complete + 1):
            apply(model, attrs, operation(g))
        after = (copy.deepcopy(model), copy.deepcopy(attrs))
        if not ended:
            apply(*after, operation(began))
            stats["killed mid-operation"] += 1
        stats["operations"] += began - generation + 1
        model, attrs = check_store(store, directory, (model, attrs), after, stats, leftovers)
        generation = began + 1
    stats["temporary files left"] = len(leftovers)
    print(f"\n{TRIALS} kills in {time.perf_counter() - started:.1f} s: {dict(stats)}")
    assert stats["killed mid-operation"] > TRIALS // 2
    # What killed writers left behind goes with the node.
    for name in crash_arrays():
        zarrlib.delete_node(store, name)
    assert sorted(os.listdir(directory)) == ["zarr.json"]
