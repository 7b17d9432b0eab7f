"""Keeps `make up`'s children running: one that exits is restarted, with backoff.

A developer's platform should not fall over because one service crashed (a bad
migration being fixed, an out-of-memory kill, a `kill -9` to try the fault handling):
the others keep serving, and the one that died comes back on its own once it can. The
wait doubles after each failure in a row (1 s, 2 s, 4 s, ... up to `cap`), so a service
that cannot start does not spin; one that ran for `healthy_after` seconds before it died
starts again from the first wait. Every exit and restart is logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import NoReturn

from minsheng.platform.services import ServiceProcess

log = logging.getLogger("minsheng.platform")


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    cap: float = 30.0
    healthy_after: float = 60.0  # a run this long resets the count of failures

    def delay(self, failures: int) -> float:
        """Seconds to wait before the restart after `failures` failures in a row (1, 2...)."""
        return min(self.cap, self.first * 2.0 ** (failures - 1))


async def keep_running(child: ServiceProcess, backoff: Backoff = Backoff()) -> NoReturn:
    """Watches a started `child` until cancelled; restarts it whenever it exits."""
    loop = asyncio.get_running_loop()
    failures = 0
    started = loop.time()
    while True:
        code = await child.process.wait()
        failures = 1 if loop.time() - started >= backoff.healthy_after else failures + 1
        wait = backoff.delay(failures)
        log.warning(
            "%s exited with %s; restarting in %.1fs (failure %d in a row)",
            child.name,
            code,
            wait,
            failures,
        )
        await asyncio.sleep(wait)
        started = loop.time()
        try:
            await child.start()
        except Exception as exc:  # it exited again, hung, or its port is taken: wait longer
            log.error("%s did not come back: %s", child.name, exc)
            child.kill()
            continue
        log.warning("%s restarted and ready (pid %d)", child.name, child.process.pid)


__all__ = ["Backoff", "keep_running"]
