"""CPU per request of the API lists, in-process: what a list costs the web worker, apart from the load.

p95 under 20 concurrent clients (figure 3) is what the goal is stated in, but on a shared 2-core
machine it moves with everyone else's work. The CPU time this process spends on one request does not
(much): each request goes through config.wsgi's application (every middleware, authentication with a real
token, the view, the renderer) exactly as gunicorn's worker calls it, and `time.process_time()` counts
this process's CPU only, not PostgreSQL's nor anyone else's. Reported in ms per request for `/healthz`
(the floor: the framework with one `SELECT 1`) and each list, over the same paths figure 3 loads.

    DATABASE_URL=postgres://... python -m bench.cpu [--requests 25] [--runs 3] [--kinds incidents,victims]
    DATABASE_URL=postgres://... python -m bench.cpu --profile duplicates [--requests 200]   # where it goes

`--profile KIND` (a list, or `healthz`) runs cProfile with a CPU clock around that many requests of one
list, after the same warm-up, and prints the functions by own and by cumulative CPU time.

Figure 3 (bench/run.py) includes this measurement in its results ("cpu_ms_per_request").
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


def wsgi_caller() -> Callable[[str, str | None], int]:
    """A function that sends one GET through the WSGI application in this process (config.wsgi's, as
    gunicorn loads it: Django's handler, and the worker's garbage-collector settings) and returns its status."""
    from config.wsgi import application as handler

    def get(path: str, token: str | None = None) -> int:
        parts = urlsplit(path)
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if token:
            environ["HTTP_AUTHORIZATION"] = f"Token {token}"
        status: list[str] = []
        response = handler(environ, lambda line, headers, exc_info=None: status.append(line))
        try:
            for _chunk in response:
                pass
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()
        return int(status[0].split(" ", 1)[0])

    return get


def cpu_per_request(token: str, kinds: list[str], requests: int, runs: int) -> dict[str, dict[str, float]]:
    """{"healthz" | kind: {"cpu_ms": median CPU ms per request over `runs`, "wall_ms": the same in wall time}}."""
    from bench.run import list_paths

    get = wsgi_caller()
    paths = {"healthz": ["/healthz"], **{kind: list_paths(kind) for kind in kinds}}
    for kind, some in paths.items():  # warm: connections, compiled shapers, kept estimates, caches
        for path in some:
            for _ in range(2):
                status = get(path, None if kind == "healthz" else token)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
    found: dict[str, dict[str, float]] = {}
    cpu: dict[str, list[float]] = {kind: [] for kind in paths}
    wall: dict[str, list[float]] = {kind: [] for kind in paths}
    for _ in range(runs):
        for kind, some in paths.items():  # interleaved, so a change in the machine's load hits every list alike
            credential = None if kind == "healthz" else token
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            for index in range(requests):
                get(some[index % len(some)], credential)
            cpu[kind].append((time.process_time() - started_cpu) * 1000 / requests)
            wall[kind].append((time.perf_counter() - started_wall) * 1000 / requests)
    for kind in paths:
        found[kind] = {
            "cpu_ms": round(statistics.median(cpu[kind]), 2),
            "wall_ms": round(statistics.median(wall[kind]), 2),
        }
    return found


def profile_requests(token: str, kind: str, requests: int, top: int = 40) -> str:
    """cProfile (CPU clock) of `requests` requests of one list (or "healthz") over figure 3's paths."""
    import cProfile
    import pstats

    from bench.run import list_paths

    get = wsgi_caller()
    some = ["/healthz"] if kind == "healthz" else list_paths(kind)
    credential = None if kind == "healthz" else token
    for path in some:  # warm, as cpu_per_request does
        for _ in range(2):
            status = get(path, credential)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for index in range(requests):
        get(some[index % len(some)], credential)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"{kind}: {requests} requests; times are CPU seconds over all of them\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=25, help="requests per list per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kinds", default="", help="comma-separated lists (default: every list figure 3 measures)")
    parser.add_argument("--profile", default="", help="profile one list (or healthz) instead of timing them")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print(
            "bench.cpu measures PostgreSQL: set DATABASE_URL=postgres://... (the benchmark's database).",
            file=sys.stderr,
        )
        return 2
    os.environ["DEBUG"] = ""  # production settings, as figure 3's gunicorn (DEBUG would also log every query)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic for an API bench
    from bench.run import BENCH_PAIRS, bench_user, candidate_pairs, list_kinds, setup_django, token_for

    setup_django()
    kinds = [kind for kind in args.kinds.split(",") if kind] or list_kinds()
    token = token_for(bench_user("bench-reviewer", "reviewer"))
    load_start = os.getloadavg()
    if args.profile:
        with contextlib.ExitStack() as stack:
            if args.profile == "duplicates":
                stack.enter_context(candidate_pairs(BENCH_PAIRS))
            print(profile_requests(token, args.profile, args.requests))
        return 0
    with contextlib.ExitStack() as stack:
        if "duplicates" in kinds:
            stack.enter_context(candidate_pairs(BENCH_PAIRS))
        found: dict[str, Any] = cpu_per_request(token, kinds, args.requests, args.runs)
    found["load_average"] = {"start": [round(v, 2) for v in load_start], "end": [round(v, 2) for v in os.getloadavg()]}
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
