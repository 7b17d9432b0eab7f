"""`make chaos`: every fault in turn under load, then the invariants; prints the table.

    .venv/bin/python -m testkit.chaos [--broker-outage 60] [--calm 30] [--speed 720]
                                      [--rate 12] [--projects 10] [--folder DIR]
                                      [--brokers 3]

With `--brokers 3` (`make chaos-cluster`) the platform runs on a three-node Kafka cluster
and the faults are the cluster's: `kill -9` of the leading broker, one broker stopped
`--broker-outage` seconds, all brokers but one stopped as long (testkit/chaos/cluster.py).

Loopback only, everything private (its own PostgreSQL, Kafka, sinks and services on free
ports) in a temporary folder, kept with `--folder` (the chaos process's own client logs
are its `clients.log`). Exits 1 if any invariant failed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from testkit.chaos.report import render
from testkit.chaos.run import Options, run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m testkit.chaos", description=__doc__)
    p.add_argument("--broker-outage", type=float, default=60.0, help="seconds (60)")
    p.add_argument("--postgres-outage", type=float, default=5.0, help="seconds (5)")
    p.add_argument("--calm", type=float, default=30.0, help="load-only seconds between faults")
    p.add_argument("--speed", type=float, default=720.0, help="simulated seconds per second")
    p.add_argument("--rate", type=float, default=12.0, help="appeals per simulated peak hour")
    p.add_argument("--projects", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--brokers", type=int, default=1, help="a Kafka cluster of N (3) and its broker faults"
    )
    p.add_argument("--folder", type=Path, help="keep the logs and data here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="minsheng-chaos-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        # the faults make the load's and the checks' Kafka clients log every refused
        # connection: those go to a file beside the services' logs, the terminal keeps
        # the progress and the table
        logging.basicConfig(
            filename=folder / "clients.log",
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        settings = {name: value for name, value in vars(args).items() if name != "folder"}
        options = Options(folder, **settings)  # the options are named as Options' fields
        outcome = asyncio.run(run(options))
    print(render(outcome.table, outcome.findings))
    print(f"{len(outcome.requests)} requests in all")
    return 0 if not outcome.findings.problems else 1


if __name__ == "__main__":
    sys.exit(main())
