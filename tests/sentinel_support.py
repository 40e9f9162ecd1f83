"""Real Redis Sentinel for tests: one primary, two replicas (``replicaof``), three sentinels
(``redis-server sentinel.conf --sentinel``), all on 127.0.0.1 and free ports.

Sentinels rewrite their own config files, so each gets its own under the test's directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support import RedisServer, free_port, wait_for

MASTER = "synmaster"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


@dataclass
class Node(RedisServer):
    """A redis-server that may start as a replica of ``replica_of`` (a port)."""

    replica_of: int | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            # a replica (re)joining gets its copy at once, not after the default 5 s of waiting
            "--repl-diskless-sync", "yes",
            "--repl-diskless-sync-delay", "0",
        ]  # fmt: skip
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: self.client().ping(), 30, what=f"redis-server on {self.port}")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=1)

    def sigkill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def role(self) -> str:
        return str(self.client().info("replication")["role"])


@dataclass
class SentinelProc:
    port: int
    directory: Path
    monitor: int  # the primary's port at start
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "sentinel.conf"
        conf.write_text(
            f"port {self.port}\n"
            "bind 127.0.0.1\n"
            f"dir {self.directory}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {self.monitor} 2\n"
            f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {MASTER} 2\n"
        )
        self.proc = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"],
            stdout=(self.directory / "sentinel.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: self.client().ping(), 30, what=f"sentinel on {self.port}")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=1)

    def primary_port(self) -> int | None:
        addr = self.client().sentinel_get_master_addr_by_name(MASTER)
        return int(addr[1]) if addr else None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@dataclass
class SentinelGroup:
    root: Path
    nodes: list[Node] = field(default_factory=list)
    sentinels: list[SentinelProc] = field(default_factory=list)

    def start(self) -> SentinelGroup:
        primary = Node(free_port(), self.root / "redis-0")
        primary.start()
        self.nodes = [primary]
        try:
            self._start_rest(primary)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_rest(self, primary: Node) -> None:
        for i in (1, 2):
            replica = Node(free_port(), self.root / f"redis-{i}", replica_of=primary.port)
            replica.start()
            self.nodes.append(replica)
        wait_for(self._replicas_in_sync, 60, what="both replicas in sync with the primary")
        for i in range(3):
            s = SentinelProc(free_port(), self.root / f"sentinel-{i}", monitor=primary.port)
            s.start()
            self.sentinels.append(s)
        # every sentinel knows both replicas and the other two sentinels before a test kills anything
        wait_for(self._sentinels_agree, 60, what="sentinels that know each other and the replicas")

    def _replicas_in_sync(self) -> bool:
        info = self.nodes[0].client().info("replication")
        return int(info["connected_slaves"]) == 2 and all(
            n.client().info("replication").get("master_link_status") == "up" for n in self.nodes[1:]
        )

    def _sentinels_agree(self) -> bool:
        for s in self.sentinels:
            master = s.client().sentinel_master(MASTER)
            if int(master["num-other-sentinels"]) != 2 or int(master["num-slaves"]) != 2:
                return False
        return True

    @property
    def sentinels_env(self) -> str:
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def env(self) -> dict[str, str]:
        """What a process needs to find the primary through the sentinels. ``REDIS_URL`` names a
        port where nothing listens: only its database number may be used."""
        return {
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "REDIS_SENTINELS": self.sentinels_env,
            "REDIS_SENTINEL_MASTER": MASTER,
        }

    def primary(self) -> Node:
        """The node every sentinel names as primary (waits while they disagree)."""
        ports = wait_for(
            lambda: (p := {s.primary_port() for s in self.sentinels}) and len(p) == 1 and p,
            60,
            what="sentinels that agree on the primary",
        )
        (port,) = ports
        return next(n for n in self.nodes if n.port == port)

    def wait_promoted(self, old: Node, timeout: float = 60) -> Node:
        """The replica the sentinels promoted after ``old`` went away, once it acts as primary."""

        def promoted() -> Node | None:
            new = self.primary()
            return new if new is not old and new.role() == "master" else None

        node: Node = wait_for(promoted, timeout, 0.05, what="a replica promoted by the sentinels")
        return node

    def stop(self) -> None:
        for s in self.sentinels:
            s.stop()
        for n in self.nodes:
            n.stop()
