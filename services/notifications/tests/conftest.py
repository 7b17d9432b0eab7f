"""The notifications app in-process (lifespan and all) against the real broker and database:
`notifications_client(server_url, bootstrap, **settings)`, see `service_client`."""

from __future__ import annotations

from functools import partial

from minsheng.testing.apps import service_client
from notifications.main import create_app
from notifications.settings import NotificationsSettings

notifications_client = partial(service_client, "notifications", NotificationsSettings, create_app)
