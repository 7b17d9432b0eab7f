"""Analytics rebuild: events per second `minsheng-analytics rebuild` folds from the first
offset of the domain topics, in one process and in N, as ratios to raw aiokafka
consumption of the same topics by one consumer and by N processes in the same run.

    .venv/bin/python bench/analytics_rebuild.py [--events 1000000] [--jobs N] [--out PATH]

One run, loopback only, in a temporary folder: a private Kafka broker with the
platform's topics, written with a random, valid workload of about `--events` events
(appeal, project and notification stories from testkit/unit/workload.py, keyed by
aggregate id, six partitions each), a partition's records sent as whole batches.

1. raw, one consumer: one aiokafka consumer assigned to every partition of the three
   topics reads them from the first offset to the end: records/s from the first record
   to the last (the same measure as bench/analytics_throughput.py).
2. raw, N processes: N processes (spawned), each one aiokafka consumer over the
   partitions the rebuild gives its process p % N, all released at once when every
   consumer is assigned: all records over the time from the first record any of them
   read to the last: the ceiling of N processes reading side by side.
3. rebuild --jobs 1: the rebuild's own fold (`fold_processes.fold` of the spans
   `replay.spans_of` takes: parse and validate, sequence guard, apply) in this process,
   from its start (spans and consumer start-up included) to the last record folded.
4. rebuild --jobs N: the same fold in N processes, from its start (the processes'
   start and imports included) to all their states merged back into one Replay here.
   Every event must be folded, none rejected, and both folds must hold the same states.

N is `--jobs` (0: the rebuild's default, one per CPU at most one per partition). Each
rebuild's ratio to each raw figure; targets: 1,000,000 events in under 30 s by the
rebuild in N processes and a ratio >= 0.25 of it to the raw single consumer. Beside them,
the CPU seconds of each phase (this process and its children) and the load average after
it (on a shared machine the wall-clock figures follow the load), the ratio of CPU seconds
per record, raw / rebuild, and what bringing the processes' states back cost.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # not when `spawn` imports this again in a process it starts
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # make `bench` importable
    from bench.analytics_rebuild_phases import cli

    sys.exit(cli(__doc__).main())
