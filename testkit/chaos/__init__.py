"""The fault suite under load (`make chaos`; short in `tests/test_chaos_smoke.py`).

`report.py` the faults, windows and the per-fault table (pure); `platform.py` the
platform it breaks, every service under `make up`'s supervisor; `run.py` the load and the
faults in turn; `checks.py` the invariants at quiescence; `__main__.py` the command line.
"""
