"""The launcher's part for notifications: the dev sinks, and what the notifications
service is told at start (where appeals and the sinks are, its system key at appeals).

`make up` and the end-to-end tests both wire it from here, so what the tests run is what
a developer runs. Nothing a developer's platform sends leaves the machine: e-mail goes to
the SMTP catcher, webhooks and SMS to the HTTP sink, all written under `.data/sinks/`.
"""

from __future__ import annotations

from pathlib import Path

from minsheng.platform.sinks.main import SinkSettings
from minsheng.platform.sinks.process import DevSinks
from minsheng.reference import HERE as REFERENCE

# In the data folder, beside the dev operator key: every service registers it with role
# `system` at start (MINSHENG_DEV_SYSTEM_KEY); notifications calls appeals' contact
# lookup with it, and Alertmanager may post to notifications with it.
SYSTEM_KEY_FILE = "dev-system-key"
DIRECTORY = REFERENCE / "directory.yaml"  # its webhooks: the sinks at their default address
DEFAULT_SINKS_URL = f"http://127.0.0.1:{SinkSettings.model_fields['sinks_http_port'].default}"


def dev_sinks(
    data_dir: Path, log_file: Path | None = None, env: dict[str, str] | None = None
) -> DevSinks:
    """The sinks on the ports `MINSHENG_SINKS_*` say (8025 and 2525 by default), with
    `env` (the platform's: log format and level) added to ours."""
    config = SinkSettings(data_dir=data_dir)
    return DevSinks(
        env=env or {},
        port=config.sinks_http_port,
        smtp_port=config.sinks_smtp_port,
        data_dir=data_dir,
        log_file=log_file,
    )


def local_directory(sinks: DevSinks, path: Path) -> Path | None:
    """The development directory (whose webhooks are the sink's default address) written
    to `path` with the sinks' actual address; None if they listen at the default one."""
    if sinks.url == DEFAULT_SINKS_URL:
        return None
    text = DIRECTORY.read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(f"{DEFAULT_SINKS_URL}/", f"{sinks.url}/"), encoding="utf-8")
    return path


def notifications_env(sinks: DevSinks, appeals_url: str, system_key: str) -> dict[str, str]:
    """The notifications service's settings pointing every channel at the sinks;
    `system_key` is a key of role `system` at appeals (contact lookups)."""
    directory = local_directory(sinks, sinks.data_dir / "directory.yaml")
    moved = {} if directory is None else {"MINSHENG_NOTIFICATIONS_DIRECTORY_FILE": str(directory)}
    return {
        **moved,
        "MINSHENG_NOTIFICATIONS_APPEALS_URL": appeals_url,
        "MINSHENG_NOTIFICATIONS_APPEALS_KEY": system_key,
        "MINSHENG_NOTIFICATIONS_SMS_GATEWAY_URL": sinks.sms_url,
        "MINSHENG_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "MINSHENG_NOTIFICATIONS_SMTP_PORT": str(sinks.smtp_port),
    }


def banner_lines(sinks: DevSinks, system_key: str) -> list[str]:
    """The system key, and where messages land, for the banner of `make up`."""
    folder = sinks.folder
    return [
        f"  {'system key':<13} {system_key}   (role: system; notifications -> appeals contacts)",
        f"  {'dev sinks':<13} smtp 127.0.0.1:{sinks.smtp_port}   webhooks {sinks.url}/hooks/"
        f"<recipient>   sms {sinks.sms_url}",
        f"  {'':<13} e-mail   -> {folder / 'mail'}/<n>.eml, {folder / 'mail.jsonl'}",
        f"  {'':<13} webhooks -> {folder / 'webhooks.jsonl'}   (tail -f to watch)",
        f"  {'':<13} sms      -> {folder / 'sms.jsonl'}   (numbers masked)",
    ]
