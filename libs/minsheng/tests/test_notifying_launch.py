"""How `make up` and the end-to-end stack point notifications at the dev sinks."""

from __future__ import annotations

from pathlib import Path

import yaml

from minsheng.platform.notifying import (
    DIRECTORY,
    banner_lines,
    dev_sinks,
    local_directory,
    notifications_env,
)
from minsheng.platform.sinks.process import DevSinks


def webhooks(path: Path) -> list[str]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [unit["webhook"] for unit in doc["units"]] + [
        person["webhook"] for person in doc["oncall"]["people"]
    ]


def test_on_the_default_ports_notifications_keeps_the_committed_directory(
    tmp_path: Path,
) -> None:
    sinks = dev_sinks(tmp_path)
    assert (sinks.port, sinks.smtp_port) == (8025, 2525)
    env = notifications_env(sinks, "http://127.0.0.1:8001", "msk_system")
    assert "MINSHENG_NOTIFICATIONS_DIRECTORY_FILE" not in env
    assert env["MINSHENG_NOTIFICATIONS_SMS_GATEWAY_URL"] == "http://127.0.0.1:8025/sms"
    assert env["MINSHENG_NOTIFICATIONS_SMTP_PORT"] == "2525"
    assert env["MINSHENG_NOTIFICATIONS_APPEALS_KEY"] == "msk_system"
    assert all(url.startswith("http://127.0.0.1:8025/hooks/") for url in webhooks(DIRECTORY))


def test_sinks_elsewhere_get_a_directory_with_their_address(tmp_path: Path) -> None:
    sinks = DevSinks(port=18025, smtp_port=12525, data_dir=tmp_path)
    env = notifications_env(sinks, "http://127.0.0.1:8001", "msk_system")
    moved = Path(env["MINSHENG_NOTIFICATIONS_DIRECTORY_FILE"])
    assert moved == tmp_path / "directory.yaml"
    assert [u.replace(":18025/", ":8025/") for u in webhooks(moved)] == webhooks(DIRECTORY)
    assert local_directory(DevSinks(data_dir=tmp_path), tmp_path / "unused.yaml") is None


def test_the_banner_says_where_messages_land(tmp_path: Path) -> None:
    text = "\n".join(banner_lines(dev_sinks(tmp_path), "msk_system"))
    for where in ("mail.jsonl", ".eml", "webhooks.jsonl", "sms.jsonl", "msk_system"):
        assert where in text
    assert str(tmp_path / "sinks") in text
