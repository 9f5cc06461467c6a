"""Before/after runs of one zarrlib build against tensorstore on one array served over loopback
(nginx) or moto's S3, as tools/bench_remote.py serves it: read_all and read_chunks, interleaved,
best of REPEATS wall times and best CPU time (the process's user + system, which the servers'
processes are not in). Run it alternately with two builds (ZARRLIB_LIBRARY) to compare them;
it prints one line of JSON per run.

    python tools/bench_remote_ab.py LAYOUT SOURCE REPEATS [DATA_DIR]   # raw http 15

The array is written once into DATA_DIR (default /tmp/zarrlib-bench-remote-ab/LAYOUT) and reused.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
    import numpy as np
    from bench import make_data, write_layout
    from bench_remote import http_readers, regions, s3_readers

    from servers import S3_CREDENTIALS, HttpServer, S3Server

    layout, source, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    shape, chunks = (256,) * 3, (64,) * 3
    data = make_data(shape, seed=1)
    directory = sys.argv[4] if len(sys.argv) > 4 else f"/tmp/zarrlib-bench-remote-ab/{layout}"
    if not os.path.exists(directory + "/zarr.json"):
        write_layout(layout, directory, data, chunks, tuple(c // 4 for c in chunks))
    # tensorstore's s3 kvstore takes credentials from the environment.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", S3_CREDENTIALS["access_key_id"])
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", S3_CREDENTIALS["secret_access_key"])
    if source == "http":
        server = HttpServer()
        shutil.copytree(directory, server.root / "a.zarr")
        readers = http_readers(f"{server.url}/a.zarr")
    else:
        import zarrlib

        server = S3Server()
        bucket = server.new_bucket()
        upload = zarrlib.open_store(f"s3://{bucket}/a.zarr", **server.options())
        metadata = zarrlib.read_metadata(directory, "")
        zarrlib.create_new_array(metadata, upload, "")
        zarrlib.write_region(metadata, upload, "", ..., data)
        readers = s3_readers(server, bucket, "a.zarr")
    try:
        arrays = {name: readers[name]() for name in ("zarrlib", "tensorstore")}
        chunk_regions = regions(shape, chunks)
        operations = {"read_all": lambda a: a[...], "read_chunks": lambda a: [a[r] for r in chunk_regions]}
        for array in arrays.values():
            if not np.array_equal(np.asarray(array[...]), data):
                raise AssertionError("wrong values")
        result = {"so": os.path.basename(os.environ.get("ZARRLIB_LIBRARY", "")), "layout": layout, "source": source}
        for op, run in operations.items():
            best: dict[str, float] = {}
            cpu: dict[str, float] = {}
            for round_number in range(repeats):
                names = list(arrays) if round_number % 2 else list(arrays)[::-1]
                for name in names:
                    cpu_start, start = cpu_seconds(), time.perf_counter()
                    run(arrays[name])
                    elapsed, used = time.perf_counter() - start, cpu_seconds() - cpu_start
                    best[name] = min(best.get(name, elapsed), elapsed)
                    cpu[name] = min(cpu.get(name, used), used)
            result[op] = {
                **{name: round(seconds, 4) for name, seconds in best.items()},
                "ratio": round(best["zarrlib"] / best["tensorstore"], 3),
                "cpu": {name: round(seconds, 4) for name, seconds in cpu.items()},
            }
        print(json.dumps(result), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
