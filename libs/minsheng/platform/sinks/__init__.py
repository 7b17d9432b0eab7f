"""`minsheng-dev-sinks`: where a developer's notifications land instead of the world.

One process, two listeners on localhost: an SMTP catcher (aiosmtpd, port 2525) and an
HTTP server (port 8025) for webhooks (`/hooks/{recipient_id}`, signatures checked against
`$MINSHENG_DATA_DIR/webhook-secrets.json`) and SMS (`/sms`). What they receive is written
under `$MINSHENG_DATA_DIR/sinks/` (see `files`). `make up` starts it.
"""
