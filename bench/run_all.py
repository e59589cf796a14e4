"""Run every benchmark and write the results as Markdown tables (`make bench`).

    python -m bench.run_all                     # full sizes, both backends: docs/performance.md
    python -m bench.run_all --quick --output -  # tiny sizes, to stdout (what make test runs)
    python -m bench.run_all --backends sqlite   # without Redis + PostgreSQL

Each figure of our server sits next to the bare-websockets floor measured in the same run
(bench/floor.py) and the target of the benchmark issue. The tables replace the block between
the `bench:begin` and `bench:end` markers of the output file; the rest of the file (what the
profiles showed, what changed) is written by hand and kept.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.support import ROOT

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
BACKENDS = {"sqlite": "SQLite + in-memory", "redis-pg": "PostgreSQL + Redis"}


@dataclass(frozen=True)
class Sizes:
    broadcast_sockets: tuple[int, ...]
    broadcast_jobs: int
    addressed_sockets: int
    addressed_jobs: int
    cross_process_jobs: int
    throughput_seconds: float
    idle_sockets: tuple[int, ...]
    rest_seconds: float


FULL = Sizes((10, 100, 1000), 100, 1000, 200, 50, 30, (1000, 5000), 30)
QUICK = Sizes((3,), 3, 4, 3, 2, 2, (5,), 1)


def run(name: str, *args: str, env: dict | None = None) -> dict:
    """One benchmark (`python -m bench.<name>`) in its own process; its JSON result line."""
    command = [sys.executable, "-m", f"bench.{name}", *args, "--json"]
    print("$ python", " ".join(command[1:]), file=sys.stderr, flush=True)
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bench.{name} {' '.join(args)} failed ({done.returncode})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {time.monotonic() - started:.0f} s: {result}", file=sys.stderr, flush=True)
    return result


def ms(value: float) -> str:
    return f"{value:.1f}"


def ratio(ours: float, floor: float) -> str:
    return f"{ours / floor:.1f}x" if floor > 0 else "-"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def latency_rows(sizes: Sizes, backends: list[str]) -> list[str]:
    rows = [
        "| Mode | Backend | Sockets | Jobs | p50 ms | p99 ms | max ms "
        "| Floor p99 ms | p99 / floor | Target | Met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    floors = {}
    for count in sizes.broadcast_sockets:
        floors["broadcast", count] = run(
            "floor", "latency", "--mode", "broadcast", "--sockets", str(count),
            "--jobs", str(sizes.broadcast_jobs), "--interval", "0.1",
        )  # fmt: skip
    floors["addressed", sizes.addressed_sockets] = run(
        "floor", "latency", "--mode", "addressed", "--sockets", str(sizes.addressed_sockets),
        "--jobs", str(sizes.addressed_jobs), "--interval", "0.05",
    )  # fmt: skip
    for backend in backends:
        runs = [
            ("broadcast", count, sizes.broadcast_jobs, "0.1") for count in sizes.broadcast_sockets
        ]
        runs.append(("addressed", sizes.addressed_sockets, sizes.addressed_jobs, "0.05"))
        runs.append(("cross-process", 10 if sizes is FULL else 2, sizes.cross_process_jobs, "0.1"))
        for mode, count, jobs, interval in runs:
            result = run(
                "latency", "--backend", backend, "--mode", mode, "--sockets", str(count),
                "--jobs", str(jobs), "--interval", interval,
            )  # fmt: skip
            floor = floors.get((mode, count))
            floor_p99 = floor["p99"] if floor else float("nan")
            if mode == "broadcast" and count == 100:
                target, ok = "p99 ≤ 3x floor", result["p99"] <= 3 * floor_p99
            elif mode == "addressed":
                limit = 50 if backend == "sqlite" else 100
                target, ok = f"p99 ≤ {limit} ms", result["p99"] <= limit
            elif mode == "cross-process" and backend == "sqlite":
                target, ok = "p99 ≤ 1000 ms", result["p99"] <= 1000
            else:
                target, ok = "-", None
            ok = ok and result["duplicates"] == 0 if ok is not None else None
            rows.append(
                f"| {mode} | {BACKENDS[backend]} | {count} | {result['jobs']} "
                f"| {ms(result['p50'])} | {ms(result['p99'])} | {ms(result['max'])} "
                f"| {ms(floor_p99) if floor else '-'} "
                f"| {ratio(result['p99'], floor_p99) if floor else '-'} "
                f"| {target} | {'-' if ok is None else verdict(ok)} |"
            )
    return rows


def throughput_rows(sizes: Sizes, backends: list[str]) -> list[str]:
    rows = [
        "| Backend | Confirming side | Seconds | Jobs/s completed | Server CPU ms/job "
        "| Lost | Duplicates | Target | Met |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    seconds = str(sizes.throughput_seconds)
    runs = [(b, ["--via", "orm", "--batch", "20", "--confirmers", "2"]) for b in backends]
    # One order per transaction through Order.save, and staff on the order board: what
    # the same loop costs without batching, for comparison (no target).
    runs += [(b, ["--via", "orm", "--batch", "1", "--confirmers", "2"]) for b in backends]
    runs += [(b, ["--via", "http"]) for b in backends]
    for backend, extra in runs:
        result = run("throughput", "--backend", backend, "--seconds", seconds, *extra)
        limit = 150 if backend == "sqlite" else 300
        clean = result["lost"] == 0 and result["duplicates"] == 0
        if result["via"] != "orm-batch20":
            target, ok = "nothing lost or doubled", clean
        else:
            target, ok = f"≥ {limit} jobs/s", clean and result["jobs_per_second"] >= limit
        rows.append(
            f"| {BACKENDS[backend]} | {result['via']} | {result['seconds']:.0f} "
            f"| {result['jobs_per_second']:.0f} | {result['server_cpu_ms_per_job']:.2f} "
            f"| {result['lost']} | {result['duplicates']} | {target} | {verdict(ok)} |"
        )
    return rows


def sockets_rows(sizes: Sizes, backends: list[str]) -> list[str]:
    rows = [
        "| Backend | Sockets | Alive | RSS KiB/socket | Floor KiB/socket | CPU at rest % "
        "| Floor CPU % | Target | Met |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    rest = str(sizes.rest_seconds)
    for count in sizes.idle_sockets:
        floor = run("floor", "sockets", "--sockets", str(count), "--rest", rest)
        for backend in backends:
            result = run("sockets", "--backend", backend, "--sockets", str(count), "--rest", rest)
            target, ok = "-", result["alive"] == count
            if count >= 5000:
                target = "< 100 KiB, < 5 %"
                ok = ok and result["rss_per_socket_kib"] < 100 and result["cpu_at_rest_percent"] < 5
            rows.append(
                f"| {BACKENDS[backend]} | {count} | {result['alive']} "
                f"| {result['rss_per_socket_kib']:.1f} | {floor['rss_per_socket_kib']:.1f} "
                f"| {result['cpu_at_rest_percent']:.1f} | {floor['cpu_at_rest_percent']:.1f} "
                f"| {target} | {verdict(ok)} |"
            )
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; clients and servers on the same machine (loopback)"
    )


def tables(sizes: Sizes, backends: list[str]) -> str:
    started = datetime.now(UTC)
    sections = [
        ("Latency: confirming commit to the last intended socket's `new_order`",
         latency_rows(sizes, backends)),
        ("Throughput: confirmed, printed and acknowledged `completed`, one printer socket",
         throughput_rows(sizes, backends)),
        ("Idle printer sockets on one server process", sockets_rows(sizes, backends)),
    ]  # fmt: skip
    lines = [
        BEGIN,
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `make bench`"
        f"{' (quick sizes)' if sizes is QUICK else ''} on {machine()}.",
        "",
    ]
    for title, rows in sections:
        lines += [f"### {title}", "", *rows, ""]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write(output: str, block: str) -> None:
    if output == "-":
        sys.stdout.write(block)
        return
    path = Path(output)
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text + ("\n" if text else "") + block
    path.write_text(text)
    print(f"wrote {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks, not figures")
    parser.add_argument(
        "--backends", default="sqlite,redis-pg", help="comma-separated: sqlite, redis-pg"
    )
    parser.add_argument("--output", default="docs/performance.md", help="file, or - for stdout")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    write(args.output, tables(QUICK if args.quick else FULL, backends))


if __name__ == "__main__":
    main()
