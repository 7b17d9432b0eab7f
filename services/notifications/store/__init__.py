"""All SQL of the notifications service, by table group: `subjects` (what the consumer
remembers), `deliveries` (deliveries, attempts, disabled endpoints), `pages` (alerts
seen, pages and their escalation), `queries` (the operators' lists)."""
