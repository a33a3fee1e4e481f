"""``python -m sandbox`` as its own process: startup line, env switches, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
FULL_KEY = "test_sk_cli_secret_9876wxyz"


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("QONVERSION_SANDBOX_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0", *args],
        cwd=REPO_ROOT,
        env={**clean_env, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    prefix = "Qonversion sandbox listening on "
    assert line.startswith(prefix), line
    api_url = line.removeprefix(prefix)
    assert api_url.startswith("http://127.0.0.1:")
    assert api_url.endswith("/v4")
    return process, api_url


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_it_serves_as_a_process_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    process, api_url = start("--seed", "42", env={"QONVERSION_SANDBOX_CREATE_STATUS": "200"})
    try:
        response = requests.post(
            api_url + "/integrations",
            json={"title": "CLI", "integration": "slack", "target_platform": "iOS"},
            headers={"Authorization": f"Bearer {FULL_KEY}"},
            timeout=5,
        )
        assert response.status_code == 200  # switch read from the environment
    finally:
        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert stdout == ""  # the startup line is the only thing printed
    assert "POST /v4/integrations -> 200 key=test_sk_…wxyz" in stderr
    assert FULL_KEY not in stderr
