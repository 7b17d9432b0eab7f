"""The local Prometheus and Alertmanager configuration is the committed one on loopback:
same jobs, same rule files, same routes, accepted by Debian's promtool and amtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from minsheng.platform.monitoring import (
    ALERTMANAGER_CONFIG,
    MISSING,
    PROMETHEUS_CONFIG,
    Monitoring,
    local_alertmanager_config,
    local_prometheus_config,
    system_key,
)


def committed(path: Path) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def check(tool: str, *args: str) -> None:
    binary = shutil.which(tool)
    assert binary, f"{tool} missing: `make tools` installs Debian's prometheus packages"
    done = subprocess.run([binary, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_prometheus_scrapes_the_committed_jobs_on_loopback_with_the_committed_rules(
    tmp_path: Path,
) -> None:
    config = local_prometheus_config(
        ports={"analytics": 18004}, alertmanager="127.0.0.1:19093", interval="1s"
    )
    targets = {
        job["job_name"]: [t for s in job["static_configs"] for t in s["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets == {
        "appeals": ["127.0.0.1:8001"],
        "projects": ["127.0.0.1:8002"],
        "notifications": ["127.0.0.1:8003"],
        "analytics": ["127.0.0.1:18004"],
    }
    original = committed(PROMETHEUS_CONFIG)["rule_files"]
    assert isinstance(original, list)
    assert config["rule_files"] == [str(PROMETHEUS_CONFIG.parent / p) for p in original]
    assert config["global"]["scrape_interval"] == "1s"
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    check("promtool", "check", "config", str(path))


def test_alertmanager_calls_the_local_notifications_service_with_a_system_key(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "notifications-key"
    key = system_key(key_file)
    assert key.startswith("msk_")
    assert system_key(key_file) == key, "kept, so the registered key stays valid"
    assert key_file.stat().st_mode & 0o077 == 0
    config = local_alertmanager_config("http://127.0.0.1:18003", key_file)
    hooks = [h for r in config["receivers"] for h in r.get("webhook_configs", ())]
    assert hooks
    for hook in hooks:
        assert hook["url"].startswith("http://127.0.0.1:18003/")
        assert hook["http_config"]["authorization"]["credentials_file"] == str(key_file)
    assert config["route"] == committed(ALERTMANAGER_CONFIG)["route"]
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    check("amtool", "check-config", str(path))


async def test_without_the_binaries_the_platform_runs_on_after_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monitoring = Monitoring(tmp_path, "postgresql://postgres@127.0.0.1:1/postgres")
    await monitoring.start()
    assert capsys.readouterr().out == MISSING + "\n"
    assert monitoring.banner() == []
    await monitoring.stop()
