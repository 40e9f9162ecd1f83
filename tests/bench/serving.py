"""Serving feeds, each path against nginx serving the same bytes from a file:

* ``serving``: one ``syndicate serve`` process (the in-process feed cache) answering 200, 304 and
  gzip 200; the issue's targets are 200 >= 0.5 and 304 >= 0.3 of nginx;
* ``serving_export``: the shipped deploy/nginx.conf serving the files ``SYNDICATE_EXPORT_DIR``
  holds (try_files, gzip_static, the app's validators and headers), the path CDN-scale traffic
  takes; the target is >= 0.9 of a bare nginx serving copies of the same files with gzip_static.

Both nginx run one worker process; wrk runs with 2 threads and 8 connections on the same cores.
Each case alternates between the two sides for a few rounds and keeps the medians: requests/s
(what the ratios are made of) and the CPU the serving process spent per 1,000 requests (steadier
than requests/s on a shared machine; ``cpu_ratios`` is ours over the baseline's: lower is better).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.bench import baselines
from tests.bench.harness import Bench, cpu_seconds, timed_until
from tests.bench.receiver import Nginx, ensure_tool
from tests.bench.scale import settled
from tests.bench.scenarios import cms_article
from tests.support import ROOT, Api, free_port, wait_for

FEED = "/feeds/global/all.rss"
ROUNDS = 3
PLAIN = {"Accept-Encoding": "identity"}
ARTICLES = 50


def _publish(bench: Bench) -> Api:
    api = bench.start_stack()
    for i in range(ARTICLES):
        api.post_article(json.dumps(cms_article(i, "srv")), "application/json").raise_for_status()
    timed_until(lambda: settled(bench) and bench.redis.zcard("syn:idx:global:all") >= ARTICLES, 120, "feed")
    return api


Runs = dict[str, dict[str, dict[str, float]]]  # case -> "ours"/"base" -> figures
Case = tuple[str, dict[str, str], str, dict[str, str]]  # our URL and headers, the baseline's


def _ratios(runs: Runs, figure: str = "requests_per_s") -> dict[str, float]:
    return {c: round(r["ours"][figure] / r["base"][figure], 3) for c, r in runs.items()}


def _summary(runs: Runs, side: str) -> str:
    return " ".join(f"{c}:{r[side]['requests_per_s']:.0f}/s" for c, r in runs.items())


def _check(cases: dict[str, Case]) -> None:
    """One answer of each side of each case (wrk would count a 200 meant as a 304 a success)."""
    for case, (ours, ours_h, base, base_h) in cases.items():
        for url, headers in ((ours, ours_h), (base, base_h)):
            r = requests.get(url, headers={**PLAIN, **headers}, timeout=5)
            expected = 304 if case.startswith("304") else 200
            if r.status_code != expected:
                raise SystemExit(f"bench: {url} {headers} answered {r.status_code}, not {expected}")


def _measure(seconds: float, cases: dict[str, Case], rounds: int, pids: tuple[int, int]) -> Runs:
    """wrk on both sides of each case, alternating for ``rounds`` rounds (the machine is shared:
    alternating spreads its noise over both); the median requests/s of each side, and the CPU
    seconds the serving processes (``pids``: ours, the baseline's) spent per 1,000 requests."""
    _check(cases)
    runs: Runs = {}
    for case, (ours, ours_h, base, base_h) in cases.items():
        rps: dict[str, list[float]] = {"ours": [], "base": []}
        cpu: dict[str, list[float]] = {"ours": [], "base": []}
        for _ in range(rounds):
            for side, url, headers, pid in (("ours", ours, ours_h, pids[0]), ("base", base, base_h, pids[1])):
                before = cpu_seconds(pid)
                got = baselines.wrk(url, seconds, headers)
                rps[side].append(got["requests_per_s"])
                cpu[side].append(
                    (cpu_seconds(pid) - before) / (got["requests_per_s"] * round(seconds)) * 1000
                )
        runs[case] = {
            side: {
                "requests_per_s": round(statistics.median(rps[side]), 1),
                "cpu_ms_per_1000": round(statistics.median(cpu[side]) * 1000, 2),
            }
            for side in rps
        }
    return runs


def serving(bench: Bench, seconds: float, rounds: int = ROUNDS) -> dict[str, Any]:
    """Feed GETs per second from one ``web`` process vs nginx serving the same bytes from a file
    (its gzip made on the fly, as a plain nginx does)."""
    bench.flush()
    nginx = Nginx().start()
    try:
        api = _publish(bench)
        feed = api.get(FEED, headers=PLAIN)  # the plain body's tag: wrk asks for no gzip
        theirs = nginx.put_feed("all.rss", feed.content)
        nginx_etag = requests.head(theirs, headers=PLAIN, timeout=5).headers["ETag"]
        ours = api.base + FEED
        runs = _measure(
            seconds,
            {
                "200": (ours, {}, theirs, {}),
                "304": (ours, {"If-None-Match": feed.headers["ETag"]}, theirs, {"If-None-Match": nginx_etag}),
                "200_gzip": (ours, {"Accept-Encoding": "gzip"}, theirs, {"Accept-Encoding": "gzip"}),
            },
            rounds,
            (_pid(bench.web), _pid(nginx)),
        )
    finally:
        bench.stop_stack()
        nginx.stop()
    ratios = _ratios(runs)
    return {
        "scenario": "serving",
        "feed_bytes": len(feed.content),
        "runs": runs,
        "ratios": ratios,
        "cpu_ratios": _ratios(runs, "cpu_ms_per_1000"),
        "ratio": " / ".join(f"{ratios[c]:g}" for c in runs),
        "target": ">= 0.5 (200), >= 0.3 (304)",
        "met": ratios["200"] >= 0.5 and ratios["304"] >= 0.3,
        "summary_ours": _summary(runs, "ours"),
        "summary_base": _summary(runs, "base"),
        "note": "uvicorn 1 process vs nginx 1 worker (gzip on the fly); wrk -t2 -c8 on the same cores",
    }


@dataclass
class ShippedNginx:
    """deploy/nginx.conf as shipped, with only what differs here substituted: the upstream, the
    address, the export folder, one worker process (as the baseline) and no access log."""

    export_dir: Path
    web_port: int
    prefix: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-shipped-")))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ShippedNginx:
        conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        for old, new in {
            "worker_processes auto;": "worker_processes 1;",
            "access_log /dev/stdout;": "access_log off;",
            "server web:8000;": f"server 127.0.0.1:{self.web_port};",
            "listen 80;": f"listen 127.0.0.1:{self.port};",
            "root /srv/export;": f"root {self.export_dir};",
        }.items():
            if conf.count(old) != 1:
                raise SystemExit(f"bench: deploy/nginx.conf no longer has exactly one {old!r}")
            conf = conf.replace(old, new)
        (self.prefix / "nginx.conf").write_text(conf, encoding="utf-8")
        user = " user root;" if os.geteuid() == 0 else ""  # workers as nobody could not read tmp
        conf_path = str(self.prefix / "nginx.conf")
        self.proc = subprocess.Popen(
            [
                ensure_tool("nginx", "nginx-light"),
                "-p",
                f"{self.prefix}/",
                "-c",
                conf_path,
                "-g",
                f"daemon off;{user}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(lambda: self.proc and self.proc.poll() is None and self._up(), 10, what="shipped nginx")
        return self

    def _up(self) -> bool:
        try:
            return requests.get(self.base + "/nowhere", timeout=1).status_code > 0
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.prefix, ignore_errors=True)


def _pid(proc: Any) -> int:
    """The process (tree) that serves: a ``Proc``, an ``Nginx`` or a ``ShippedNginx``."""
    inner = proc.proc
    assert inner is not None
    return int(inner.pid)


def _validators(url: str, coding: str) -> tuple[str, str]:
    r = requests.get(url, headers={"Accept-Encoding": coding}, timeout=5)
    return r.headers.get("ETag", ""), r.headers.get("Last-Modified", "")


def serving_export(bench: Bench, seconds: float, rounds: int = ROUNDS) -> dict[str, Any]:
    """The shipped nginx serving the exported feed (200, 304, gzip 200) vs a bare nginx."""
    bench.flush()
    export_dir = bench.tmp / "export"
    bench.env["SYNDICATE_EXPORT_DIR"] = str(export_dir)
    shipped: ShippedNginx | None = None
    plain = Nginx().start()
    try:
        api = _publish(bench)
        shipped = ShippedNginx(export_dir, int(api.base.rsplit(":", 1)[1])).start()
        ours = shipped.base + FEED
        same = all(
            wait_for(lambda c=c: _validators(ours, c) == _validators(api.base + FEED, c), 30, what="export")
            for c in ("identity", "gzip")
        )
        bench.stop_stack()  # the files answer alone (the app would be idle, but not free)
        file = export_dir / "feeds" / "global" / "all.rss"
        base = plain.put_files("all.rss", file, file.with_name("all.rss.gz"))
        mine = requests.get(ours, timeout=5)
        assert mine.ok and "link" not in mine.headers, "the shipped nginx did not serve the file"
        etag = {url: requests.head(url, headers=PLAIN, timeout=5).headers["ETag"] for url in (ours, base)}
        gz = {"Accept-Encoding": "gzip"}
        runs = _measure(
            seconds,
            {
                "200": (ours, {}, base, {}),
                "304": (ours, {"If-None-Match": etag[ours]}, base, {"If-None-Match": etag[base]}),
                "200_gzip": (ours, gz, base, gz),
            },
            rounds,
            (_pid(shipped), _pid(plain)),
        )
    finally:
        bench.stop_stack()
        bench.env.pop("SYNDICATE_EXPORT_DIR", None)
        if shipped is not None:
            shipped.stop()
        plain.stop()
    ratios = _ratios(runs)
    worst = min(ratios.values())
    return {
        "scenario": "serving_export",
        "feed_bytes": file.stat().st_size,
        "validators_as_web": same,
        "runs": runs,
        "ratios": ratios,
        "cpu_ratios": _ratios(runs, "cpu_ms_per_1000"),
        "ratio": worst,
        "target": ">= 0.9",
        "met": worst >= 0.9,
        "summary_ours": _summary(runs, "ours"),
        "summary_base": _summary(runs, "base"),
        "note": "deploy/nginx.conf (1 worker, access log off) vs bare nginx with gzip_static, same files",
    }
