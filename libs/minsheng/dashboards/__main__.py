"""`python -m minsheng.dashboards` (`make dashboards`): writes deploy/grafana/dashboards."""

from minsheng.dashboards import write

for path in write():
    print(f"wrote {path}")
