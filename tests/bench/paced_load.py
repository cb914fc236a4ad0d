"""An open-loop load: GET a path through the gateway at a fixed rate, whatever the
answers take (a realistic intensity, unlike wrk's closed-loop saturation)."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections import Counter
from typing import Any

from tests.bench.client import MePoller
from tests.bench.settings import GATEWAY_ADDRESS
from tests.bench.stats import percentile

CONNECTIONS = 4  # kept-alive connections (one client thread each)
LATE_MS = 10.0  # a request sent later than this after its slot counts as late
MISS_S = 1.0  # a slot no connection could take within this is skipped (missed)
MIN_RATIO = 0.95  # the load is valid when it achieved >= 95 % of its rate


class PacedLoad:
    """Open-loop load: GET `path` through the gateway at a fixed `rate`, whatever the
    answers take. A scheduler thread hands out slots (start + k / rate) to
    `connections` client threads, each with one kept-alive connection (MePoller); a
    request is sent at its slot time, or as soon as a connection is free when all are
    busy (sent more than LATE_MS after its slot: late), or skipped when no
    connection could take it within MISS_S (missed). Latency is counted from
    the slot, not from the send, so that a stall of the gateway shows in it (no
    coordinated omission). `stop()` ends it and answers the statistics."""

    def __init__(self, path: str, rate: float, connections: int, token: str) -> None:
        self.path, self.rate, self.connections, self.token = path, rate, connections, token
        self.slots: list[float] = []
        self.cond = threading.Condition()
        self.stopping = False
        self.latencies: list[float] = []  # ms, slot to answer
        self.service: list[float] = []  # ms, send to answer
        self.errors: Counter[str] = Counter()
        self.late = self.missed = self.scheduled = 0
        self.started = time.perf_counter()
        self.scheduler = threading.Thread(target=self._schedule, name="paced-load",
                                          daemon=True)
        self.clients = [threading.Thread(target=self._client, name=f"paced-load-{n}",
                                         daemon=True) for n in range(connections)]
        for thread in (self.scheduler, *self.clients):
            thread.start()

    def running(self) -> bool:
        return self.scheduler.is_alive() and all(t.is_alive() for t in self.clients)

    def _schedule(self) -> None:
        k = 0
        while True:
            slot = self.started + k / self.rate
            with self.cond:
                while not self.stopping and (pause := slot - time.perf_counter()) > 0:
                    self.cond.wait(pause)
                if self.stopping:
                    return
                self.slots.append(slot)
                self.scheduled += 1
                self.cond.notify()
            k += 1

    def _client(self) -> None:
        poller = MePoller(self.path)
        try:
            while True:
                with self.cond:
                    while not self.slots and not self.stopping:
                        self.cond.wait()
                    if not self.slots:  # stopping, and every slot handed out taken
                        return
                    slot = self.slots.pop(0)
                sent = time.perf_counter()
                if sent - slot > MISS_S:
                    with self.cond:
                        self.missed += 1
                    continue
                try:
                    status, _, _ = poller.fetch(self.token)
                    error = None if status == 200 else f"HTTP {status}"
                except (OSError, http.client.HTTPException) as exc:
                    poller.close()
                    error = type(exc).__name__
                done = time.perf_counter()
                with self.cond:
                    self.latencies.append((done - slot) * 1000)
                    self.service.append((done - sent) * 1000)
                    if sent - slot > LATE_MS / 1000:
                        self.late += 1
                    if error:
                        self.errors[error] += 1
        finally:
            poller.close()

    def stop(self) -> dict[str, Any]:
        """Ends the load (the slots already due are still sent) and answers its
        statistics; `throughout` tells whether all its threads were still running."""
        throughout = self.running()
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self.scheduler.join(timeout=15)
        for thread in self.clients:
            thread.join(timeout=15)
        seconds = time.perf_counter() - self.started
        requests = len(self.latencies)
        achieved = requests / seconds if seconds else None
        errors = sum(self.errors.values())
        valid = (throughout and errors == 0 and self.missed == 0 and achieved is not None
                 and achieved >= MIN_RATIO * self.rate)
        return {
            "kind": "open-loop, paced",
            "url": f"http://{GATEWAY_ADDRESS}{self.path}",
            "target_per_s": self.rate,
            "connections": self.connections,
            "seconds": seconds,
            "slots": self.scheduled,
            "requests": requests,
            "achieved_per_s": achieved,
            "p50_ms": statistics.median(self.latencies) if self.latencies else None,
            "p99_ms": percentile(self.latencies, 99) if self.latencies else None,
            "service_p50_ms": statistics.median(self.service) if self.service else None,
            "service_p99_ms": percentile(self.service, 99) if self.service else None,
            "errors": errors,
            "error_kinds": dict(self.errors),
            "late": self.late,
            "late_after_ms": LATE_MS,
            "missed": self.missed,
            "missed_after_s": MISS_S,
            "throughout": throughout,
            "valid": valid,
            "description": (
                f"GET {self.path} at a fixed {self.rate:g} req/s (open loop: each request "
                f"sent at its slot time, whatever the previous answers took) over "
                f"{self.connections} kept-alive connections, client threads in the bench "
                "process; latency from each request's slot to its answer"),
        }
