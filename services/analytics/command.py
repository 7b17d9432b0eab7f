"""`minsheng-analytics` runs a worker; `minsheng-analytics rebuild ...` a rebuild.

Only the dispatch, so that the console script imports next to nothing: the rebuild's
processes start with `spawn`, which imports the parent's main script again in each.
"""

from __future__ import annotations

import sys


def run() -> None:
    if sys.argv[1:2] == ["rebuild"]:
        from analytics.rebuild import main

        sys.exit(main(sys.argv[2:]))
    from analytics.main import run as worker

    worker()
