"""The notifications service: tells units, supervisors, citizens and on-call staff."""
