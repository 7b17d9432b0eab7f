"""SQL of the project timers: one row per milestone due day and per planned end.

Every transaction that changes a project makes its unfired rows those `timing.timers`
wants for the new state (`journal.record`, through `minsheng.timers`): a reschedule
replaces a milestone's timer, completion removes them all. The job claims the due ones;
fired rows are kept, as the record of what was sent.
"""

from __future__ import annotations

from minsheng.timers import TimerTable

TIMERS = TimerTable(
    table="project_timers",
    rows="projects",
    key="project_id",
    what=(("kind", "text"), ("milestone_id", "text"), ("due_on", "date")),
    due="fires_at",
)
