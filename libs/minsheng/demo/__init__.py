"""`minsheng-demo`: a simulated Baicheng driving the running platform's HTTP APIs on a
compressed clock, so that the dashboards, counters and alerts have living data.

`city` decides (pure, seeded) who calls about what and how units answer; `driver` carries
the plan out over HTTP; `cli` is the command with its progress bar.
"""
