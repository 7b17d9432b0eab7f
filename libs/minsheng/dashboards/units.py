"""The Grafana unit ids the panels show their figures in: counts of things get a suffix,
so that a reader knows what is counted."""

APPEALS = "suffix: appeals"
PROJECTS = "suffix: projects"
UNITS = "suffix: units"
EVENTS = "suffix: events"
MESSAGES = "suffix: messages"
RATIO = "percentunit"
SECONDS = "s"
PER_SECOND = "reqps"
