"""``python -m tests.bench [--scenarios ingest,fanout,...] [--n 2000] [--subs 500] ...``

Prints one JSON object per scenario (absolute figures, the baseline's, and the ratio), then a
short table. Starts its own redis-server, workers, web server and nginx, all on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench import extraction, scale, scenarios, serving, tags
from tests.bench.harness import Bench

ALL = ("ingest", "fanout", "growth", "memory", "serving", "serving_export", "latency", "extraction", "tags")


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    p.add_argument("--scenarios", default=",".join(ALL), help=f"comma-separated, from {', '.join(ALL)}")
    p.add_argument("--n", type=int, default=2000, help="ingest: articles (default 2000)")
    p.add_argument("--subs", type=int, default=500, help="fanout: subscriptions (default 500)")
    p.add_argument("--small", type=int, default=1000, help="growth/memory: small store size")
    p.add_argument(
        "--large",
        type=int,
        default=20_000,
        help="growth/memory: large store size (default 20000; 100000 seeds for about 6 minutes)",
    )
    p.add_argument("--seconds", type=float, default=5.0, help="serving, serving_export: seconds per wrk run")
    p.add_argument("--rate", type=float, default=20.0, help="latency: articles per second")
    p.add_argument("--duration", type=float, default=10.0, help="latency: seconds of traffic")
    p.add_argument("--pages", type=int, default=None, help="extraction: first N pages only (default all)")
    p.add_argument("--tags-small", type=int, default=1000, help="tags: tags on the small item")
    p.add_argument("--tags-large", type=int, default=10_000, help="tags: tags on the large item")
    args = p.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in ALL]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}; expected some of {', '.join(ALL)}")
    return args


def machine() -> dict[str, Any]:
    return {
        "scenario": "machine",
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = [machine()]
    print(json.dumps(results[0]), flush=True)
    bench = Bench()
    try:
        if any(name not in ("extraction", "tags") for name in args.scenarios):  # these need no Redis
            bench.start_redis()
        for name in args.scenarios:
            started = time.monotonic()
            if name == "extraction":
                out = extraction.extraction(args.pages)
            elif name == "ingest":
                out = scenarios.ingest(bench, args.n)
            elif name == "fanout":
                out = scenarios.fanout(bench, args.subs)
            elif name == "latency":
                out = scenarios.latency(bench, args.rate, args.duration)
            elif name == "tags":
                out = tags.tags(args.tags_small, args.tags_large)
            elif name == "serving":
                out = serving.serving(bench, args.seconds)
            elif name == "serving_export":
                out = serving.serving_export(bench, args.seconds)
            else:  # growth and memory share one run: they need the same large store
                if "growth_memory" not in {r.get("_key") for r in results}:
                    for r in scale.growth_and_memory(bench, args.small, args.large):
                        r["_key"] = "growth_memory"
                        results.append(r)
                out = next(r for r in results if r.get("scenario") == name)
                out.pop("_key", None)
                print(json.dumps(out), flush=True)
                continue
            out["wall_seconds"] = round(time.monotonic() - started, 1)
            results.append(out)
            print(json.dumps(out), flush=True)
    finally:
        bench.close()
    return [r for r in results if r.get("scenario") in args.scenarios]


def table(results: list[dict[str, Any]]) -> str:
    rows = [("scenario", "ours", "baseline", "ratio", "target", "met")]
    for r in results:
        rows.append(
            (
                r["scenario"],
                str(r.get("summary_ours", "")),
                str(r.get("summary_base", "")),
                str(r.get("ratio", "")),
                str(r.get("target", "")),
                {True: "yes", False: "NO"}.get(r.get("met"), "-"),  # type: ignore[arg-type]
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    results = run(args)
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
