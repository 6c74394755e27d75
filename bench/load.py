"""Side-by-side load benchmark of the /v1 API: req/s and p99 per endpoint as instances are added.

For each N in the grid and each build (this checkout, and optionally another revision unpacked
into a temporary directory and run against this checkout's .venv), it starts a fresh Redis and a
fresh `quota-sentinel start` of that build, registers N instances over K=10 distinct Z.ai keys
(so N/10 subscribers per account) against a loopback fake, waits for the first poll of every
account, then drives each endpoint with wrk: C=16 keep-alive connections in a closed loop, a
2 s warm-up, then RUNS x SECONDS, requests rotating over 256 of the N instances; the median run
counts; each run also records the CPU the server spent per request (every process of the
build plus its Redis, user + system, reaped children included), which a busy machine disturbs
far less than req/s. It also times GET /v1/team (p50 of sequential requests) and reads Redis
`used_memory` before and after the registrations (bytes per instance).

    .venv/bin/python bench/load.py                         # this checkout alone
    .venv/bin/python bench/load.py --compare ccefa37       # side by side with ccefa37
    .venv/bin/python bench/load.py --quick --compare ccefa37   # 1 x 5 s per endpoint
    .venv/bin/python bench/load.py --grid 10 --ceiling     # + do-nothing apps, same gunicorn

JSON lines go to --out (one per run, one summary per endpoint); a markdown table is printed.
Both builds run in the same invocation, alternating per N, so a busy machine slows both alike:
compare the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from quota_sentinel.embedded import EmbeddedRedis  # noqa: E402
from tests.upstreams.server import FakeUpstream, Reply  # noqa: E402

ENDPOINTS = ("health", "status", "providers", "heartbeat", "register")
LABELS = {
    "health": "GET /v1/health",
    "status": "GET /v1/status",
    "providers": "GET /v1/providers",
    "heartbeat": "PATCH heartbeat",
    "register": "POST /v1/instances",
}
ROTATE = 256
QUOTA_PATH = "/api/monitor/usage/quota/limit"


def quota_reply() -> dict:
    reset_ms = int(time.time() * 1000) + 3 * 3600 * 1000
    limit = {"type": "TOKENS_LIMIT", "unit": 3, "number": 5, "percentage": 41}
    return {
        "code": 200,
        "success": True,
        "data": {"level": "pro", "limits": [{**limit, "nextResetTime": reset_ms}]},
    }


@dataclass
class Build:
    """A checkout to run; `pythonpath` goes before its root (e.g. a shim hiding a package)."""

    name: str
    root: Path
    pythonpath: list[Path] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unpack(rev: str, into: Path) -> Build:
    """`git archive` of `rev` unpacked under `into`; run with PYTHONPATH pointing at it.

    It runs on this checkout's .venv; a package this checkout depends on and `rev` does not
    (hiredis) is hidden from it by a shim, so each build parses Redis replies as it would
    deployed.
    """
    target = into / rev
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    shims = []
    if "hiredis" not in (target / "pyproject.toml").read_text():
        shim = into / f"{rev}-shim"
        shim.mkdir()
        (shim / "hiredis.py").write_text('raise ImportError("not a dependency of this build")\n')
        shims.append(shim)
    return Build(rev, target, shims)


class Server:
    """A fresh Redis and a `quota-sentinel start` of one build, on a free port."""

    def __init__(self, build: Build, fake_url: str, workdir: Path, web_workers: int | None):
        self.build = build
        self.data = workdir / f"{build.name}-{time.monotonic_ns()}"
        self.data.mkdir(parents=True)
        self.redis = EmbeddedRedis(self.data / "redis-data")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.fake_url = fake_url
        self.web_workers = web_workers
        self.process: subprocess.Popen | None = None
        self.r: redis.Redis | None = None

    def __enter__(self) -> Server:
        redis_url = self.redis.start()
        self.r = redis.Redis.from_url(redis_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTA_SENTINEL_")}
        env.update(
            PYTHONPATH=os.pathsep.join(map(str, [*self.build.pythonpath, self.build.root])),
            REDIS_URL=redis_url,
            QUOTA_SENTINEL_SECRET_KEY=Fernet.generate_key().decode(),
            QUOTA_SENTINEL_DATA_DIR=str(self.data),
            QUOTA_SENTINEL_ZAI_BASE_URL=self.fake_url,
            QUOTA_SENTINEL_LOG_LEVEL="WARNING",
            QUOTA_SENTINEL_REGISTER_RATE="1000000",
        )
        argv = [sys.executable, "-m", "quota_sentinel", "start", "--port", str(self.port)]
        if self.web_workers:
            argv += ["--web-workers", str(self.web_workers)]
        self.process = subprocess.Popen(
            argv,
            cwd=self.build.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/v1/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise SystemExit(f"{self.build.name}: the server did not answer within 90 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.r is not None:
            self.r.close()
        self.redis.stop()

    def cpu_seconds(self) -> float:
        """User + system CPU of this build's processes and its Redis so far, children that
        exited (and were waited for) included."""
        roots = [self.process.pid]
        if self.redis.process is not None:
            roots.append(self.redis.process.pid)
        return sum(_tree_cpu(pid) for pid in roots)

    def used_memory(self) -> int:
        """Redis memory without client buffers (which grow with the number of connections,
        not with the data)."""
        info = self.r.info("memory")
        return int(info["used_memory"]) - int(info.get("mem_clients_normal", 0))


def _tree_cpu(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def register(url: str, n: int, keys: int) -> list[tuple[str, str]]:
    """Registers n instances over `keys` distinct keys; returns (instance id, api key) pairs."""

    def one(i: int) -> tuple[str, str]:
        body = {
            "project_name": f"bench-{i % 50}",
            "auth": {"opencode_auth": {"zai": {"key": f"bench-key-{i % keys}"}}},
        }
        with requests.Session() as s:
            for _ in range(5):
                try:
                    reply = s.post(url + "/v1/instances", json=body, timeout=30)
                    if reply.status_code == 201:
                        data = reply.json()
                        return data["instance_id"], data["api_key"]
                except requests.RequestException:
                    pass
                time.sleep(0.5)
        raise SystemExit(f"registration {i} failed")

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def wait_polled(url: str, creds: list[tuple[str, str]], keys: int) -> None:
    """Asks for a poll of every account and waits until each reads something else than UNKNOWN."""
    firsts = creds[:keys]
    for _, key in firsts:
        requests.post(url + "/v1/poll", headers={"X-API-Key": key}, timeout=30)
    deadline = time.monotonic() + 120
    pending = list(firsts)
    while pending and time.monotonic() < deadline:
        _, key = pending[0]
        try:
            body = requests.get(url + "/v1/status", headers={"X-API-Key": key}, timeout=30).json()
            if body.get("overall_status") not in (None, "UNKNOWN"):
                pending.pop(0)
                continue
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    if pending:
        raise SystemExit("the accounts were not polled within 120 s")


def wrk(
    url: str, script: Path, connections: int, seconds: float, cpu: Callable[[], float] | None = None
) -> dict:
    threads = min(connections, max(os.cpu_count() or 1, 2))
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
    ]
    cpu_before = cpu() if cpu else 0.0
    out = subprocess.run(
        [*argv, "-s", str(script), url], capture_output=True, text=True, check=True
    ).stdout
    cpu_used = (cpu() - cpu_before) if cpu else None
    line = next(x for x in out.splitlines() if x.startswith("BENCH-JSON "))
    data = json.loads(line[len("BENCH-JSON ") :])
    extra = {}
    if cpu_used is not None and data["requests"]:
        extra["cpu_ms_per_req"] = round(cpu_used * 1000 / data["requests"], 4)
    return {
        **extra,
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "errors": data["errors"],
        "requests": data["requests"],
    }


def write_script(path: Path, mode: str, creds: list[tuple[str, str]], keys: int) -> Path:
    table = ",".join(f'{{"{i}","{k}"}}' for i, k in creds)
    names = ",".join(f'"bench-key-{i}"' for i in range(keys))
    template = (Path(__file__).parent / "wrk_rotate.lua").read_text()
    path.write_text(f'MODE = "{mode}"\nCREDS = {{{table}}}\nKEYS = {{{names}}}\n{template}')
    return path


def team_p50(url: str, requests_n: int) -> float:
    timings = []
    with requests.Session() as s:
        s.get(url + "/v1/team", timeout=120).raise_for_status()
        for _ in range(requests_n):
            began = time.perf_counter()
            s.get(url + "/v1/team", timeout=120).raise_for_status()
            timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def bench_one(build: Build, n: int, args, fake_url: str, workdir: Path, emit) -> None:
    with Server(build, fake_url, workdir, args.web_workers) as server:
        before = server.used_memory()
        began = time.monotonic()
        creds = register(server.url, n, args.keys)
        reg_s = time.monotonic() - began
        per_instance = (server.used_memory() - before) / n
        emit(
            {
                "kind": "memory",
                "build": build.name,
                "n": n,
                "redis_bytes_per_instance": round(per_instance),
                "register_s": round(reg_s, 1),
            }
        )
        wait_polled(server.url, creds, args.keys)
        rotate = creds[:: max(1, len(creds) // ROTATE)][:ROTATE]
        for endpoint in args.endpoints:
            if endpoint == "register" and n == args.team_n:
                p50 = team_p50(server.url, args.team_requests)
                emit({"kind": "team", "build": build.name, "n": n, "p50_ms": round(p50, 1)})
            script = write_script(workdir / f"{endpoint}.lua", endpoint, rotate, args.keys)
            wrk(server.url, script, args.connections, args.warmup)
            runs = []
            for run in range(args.runs):
                result = wrk(server.url, script, args.connections, args.seconds, server.cpu_seconds)
                runs.append(result)
                emit(
                    {
                        "kind": "run",
                        "build": build.name,
                        "n": n,
                        "endpoint": endpoint,
                        "run": run,
                        **result,
                    }
                )
            mid = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
            emit({"kind": "median", "build": build.name, "n": n, "endpoint": endpoint, **mid})
        if args.team_n == n and "register" not in args.endpoints:
            p50 = team_p50(server.url, args.team_requests)
            emit({"kind": "team", "build": build.name, "n": n, "p50_ms": round(p50, 1)})


CEILING_APPS = {
    "no-op Flask": "bench.ceiling_apps:flask_app",
    "no-op WSGI": "bench.ceiling_apps:wsgi_app",
}


def ceiling(args, workdir: Path, emit) -> None:
    """GET /v1/health of the do-nothing apps (bench/ceiling_apps.py) under this checkout's
    gunicorn command line (`supervisor.gunicorn_argv`): the most any endpoint can reach here."""
    from quota_sentinel.supervisor import gunicorn_argv

    script = write_script(workdir / "ceiling.lua", "health", [("-", "-")], args.keys)
    for name, spec in CEILING_APPS.items():
        port = _free_port()
        argv = gunicorn_argv("127.0.0.1", port)
        argv[argv.index("quota_sentinel.app:create_app()")] = spec
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(url + "/v1/health", timeout=2).ok:
                        break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{name}: no answer within 60 s") from None
                time.sleep(0.3)
            wrk(url, script, args.connections, args.warmup)
            cpu = functools.partial(_tree_cpu, process.pid)
            runs = [wrk(url, script, args.connections, args.seconds, cpu) for _ in range(args.runs)]
            mid = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
            emit({"kind": "ceiling", "app": name, "endpoint": "health", **mid})
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def table(rows: list[dict], builds: list[str], grid: list[int]) -> str:
    """Markdown: req/s (p99 ms) per endpoint, build and N; ratios head/base and N=max/N=min."""
    med = {(r["build"], r["n"], r["endpoint"]): r for r in rows if r["kind"] == "median"}
    head = builds[0]
    cols = [f"{b} N={n:,}" for n in grid for b in builds]
    if len(builds) > 1:
        cols += [f"{head}/{b} N={n:,}" for b in builds[1:] for n in grid]
    if len(grid) > 1:
        cols += [f"{b} N={grid[-1]:,}/N={grid[0]:,}" for b in builds]
    lines = [
        "| req/s (p99 ms), median | " + " | ".join(cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    endpoints = [e for e in ENDPOINTS if any(k[2] == e for k in med)]
    for e in endpoints:
        cells = []
        for n in grid:
            for b in builds:
                r = med.get((b, n, e))
                cells.append(f"{_fmt(r['rps'])} ({_fmt(r['p99_ms'])})" if r else "-")
        for b in builds[1:]:
            for n in grid:
                x, y = med.get((head, n, e)), med.get((b, n, e))
                cells.append(f"{x['rps'] / y['rps']:.2f}×" if x and y else "-")
        if len(grid) > 1:
            for b in builds:
                x, y = med.get((b, grid[-1], e)), med.get((b, grid[0], e))
                cells.append(
                    f"{x['rps'] / y['rps']:.2f}× (p99 {x['p99_ms'] / y['p99_ms']:.2f}×)"
                    if x and y
                    else "-"
                )
        lines.append(f"| {LABELS[e]} | " + " | ".join(cells) + " |")
    lines += ["", *cpu_table(med, builds, grid, endpoints)]
    extra = []
    for r in rows:
        if r["kind"] == "ceiling":
            extra.append(
                f"- Ceiling, {r['app']} under the same gunicorn command line, GET /v1/health: "
                f"{_fmt(r['rps'])} req/s (p99 {_fmt(r['p99_ms'])} ms), "
                f"{r['cpu_ms_per_req']:.3f} ms of server CPU per request"
            )
        if r["kind"] == "team":
            extra.append(
                f"- GET /v1/team, {r['n']:,} instances, {r['build']}: p50 {r['p50_ms']} ms"
            )
        if r["kind"] == "memory" and r["n"] >= 1000:
            extra.append(
                f"- Redis bytes per instance, {r['n']:,} registrations, {r['build']}: "
                f"{r['redis_bytes_per_instance']} (registering took {r['register_s']} s)"
            )
    return "\n".join(lines + [""] + extra)


def cpu_table(med: dict, builds: list[str], grid: list[int], endpoints: list[str]) -> list[str]:
    """Markdown: server CPU ms per request of each median run, and base/head ratios (how many
    times more CPU the other build spends on one request)."""
    head = builds[0]
    cols = [f"{b} N={n:,}" for n in grid for b in builds]
    cols += [f"{b}/{head} N={n:,}" for b in builds[1:] for n in grid]
    lines = [
        "| server CPU ms per request | " + " | ".join(cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for e in endpoints:
        cpu = {
            (b, n): med[(b, n, e)].get("cpu_ms_per_req")
            for b in builds
            for n in grid
            if (b, n, e) in med
        }
        cells = [f"{cpu[(b, n)]:.3f}" if cpu.get((b, n)) else "-" for n in grid for b in builds]
        for b in builds[1:]:
            for n in grid:
                x, y = cpu.get((b, n)), cpu.get((head, n))
                cells.append(f"{x / y:.2f}×" if x and y else "-")
        lines.append(f"| {LABELS[e]} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="append", default=[], metavar="REV")
    parser.add_argument("--grid", default="10,1000,10000", help="instance counts N")
    parser.add_argument("--keys", type=int, default=10, help="distinct provider keys K")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--web-workers", type=int, default=None, help="default: each build's")
    parser.add_argument("--team-n", type=int, default=1000, help="N at which /v1/team is timed")
    parser.add_argument("--team-requests", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="1 run of 5 s, warm-up 1 s")
    parser.add_argument("--out", type=Path, default=None, help="JSON lines file")
    parser.add_argument(
        "--ceiling", action="store_true", help="also serve do-nothing apps (bench/ceiling_apps.py)"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.seconds, args.warmup = 1, 5.0, 1.0
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    grid = [int(x) for x in args.grid.split(",")]
    out = args.out or Path(tempfile.gettempdir()) / f"qs-bench-{int(time.time())}.jsonl"
    rows: list[dict] = []

    def emit(row: dict) -> None:
        rows.append(row)
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)

    fake = FakeUpstream(name="zai-bench")
    fake.route("GET", QUOTA_PATH, lambda request: Reply(json=quota_reply()))
    fake.start()
    with tempfile.TemporaryDirectory(prefix="qs-load-") as tmp:
        workdir = Path(tmp)
        builds = [Build("HEAD", ROOT)] + [unpack(rev, workdir / "builds") for rev in args.compare]
        try:
            if args.ceiling:
                ceiling(args, workdir, emit)
            for n in grid:
                for build in builds:
                    bench_one(build, n, args, fake.url, workdir, emit)
        finally:
            fake.stop()
    print(f"\nJSON lines: {out}\n")
    print(table(rows, [b.name for b in builds], grid))


if __name__ == "__main__":
    main()
