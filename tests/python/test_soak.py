"""Soak: 100,000 mixed calls of the API (reads, writes, chunk deletes, selections, string
arrays, attributes, listings, creating, appending to and deleting arrays, and about one call in
four failing: missing nodes, out-of-range chunks, bad shapes, bad metadata, existing nodes,
writes to a read-only store) on a memory store and on a directory store, each in a fresh child
process that reports its resident memory and open file descriptors after every 10,000 calls.
After warm-up (the first 20,000 calls) both must stay flat: RSS within ``RSS_TOLERANCE`` of
its value at 20,000 calls, the descriptor count unchanged. A leak of 60 bytes a call would
exceed the tolerance. The thorough profile makes 500,000 calls.
"""

from __future__ import annotations

import json
import os

from reliability import start_child

THOROUGH = os.environ.get("ZARRLIB_HYPOTHESIS_PROFILE") == "thorough"
CALLS = 500_000 if THOROUGH else 100_000
WARM_UP = 2  # checkpoints (of 10)
RSS_TOLERANCE = 4 << 20


def test_memory_and_descriptors_stay_flat():
    # Both stores at once: the children run on separate cores.
    children = {kind: start_child("soak", kind, CALLS) for kind in ("memory", "directory")}
    try:
        outputs = {kind: child.communicate(timeout=900)[0] for kind, child in children.items()}
    finally:
        for child in children.values():
            child.kill()
    for kind, out in outputs.items():
        assert children[kind].returncode == 0, f"{kind}: {out}"
        checkpoints = [json.loads(line) for line in out.split("\n") if line.startswith("{")]
        assert len(checkpoints) == 10 and checkpoints[-1]["calls"] >= CALLS
        after = checkpoints[WARM_UP - 1 :]
        growth = max(c["rss"] for c in after) - after[0]["rss"]
        summary = ", ".join(f"{c['calls']}: {c['rss'] / 2**20:.1f} MiB {c['fds']} fds" for c in checkpoints)
        print(f"\n{kind}: {summary}")
        assert growth <= RSS_TOLERANCE, f"{kind}: RSS grew by {growth / 2**20:.1f} MiB: {summary}"
        assert len({c["fds"] for c in after}) == 1, f"{kind}: open descriptors changed: {summary}"
