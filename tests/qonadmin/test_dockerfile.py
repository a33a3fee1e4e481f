"""The image holds every product app the settings install, and nothing demo-only."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.apps import apps

from tests.qonadmin.test_settings_safety import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]
DEMO_ONLY = {"demo", "sandbox"}
PRODUCT = ("qonadmin", "teams", "audit", "integrations", "alerts", "accounts")


def test_the_dockerfile_copies_every_product_app_and_the_templates():
    dockerfile = (ROOT / "Dockerfile").read_text()
    local = {
        config.name.split(".")[0] for config in apps.get_app_configs() if (ROOT / config.name.split(".")[0]).is_dir()
    }
    assert local - DEMO_ONLY == set(PRODUCT)
    for package in sorted((local - DEMO_ONLY) | {"templates", "static"}):
        assert f"COPY {package} ./{package}" in dockerfile, package


def test_the_image_has_no_sandbox_and_no_demo_code():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in DEMO_ONLY:
        assert f"COPY {package}" not in dockerfile, package
    assert "COPY . " not in dockerfile


def test_no_product_module_imports_the_sandbox_or_the_demo():
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                for name in names:
                    assert name.split(".")[0] not in DEMO_ONLY, f"{path.relative_to(ROOT)} imports {name}"


def test_no_app_imports_another_apps_views():
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    parts = node.module.split(".")
                    if parts[0] in PRODUCT and parts[0] != app and "views" in parts:
                        raise AssertionError(f"{path.relative_to(ROOT)} imports {node.module}")


def test_what_the_image_holds_starts_and_serves_without_the_sandbox(tmp_path: Path):
    """Copy exactly what the Dockerfile copies, then migrate, pass check --deploy and
    answer /healthz with production settings: nothing needs sandbox/ or demo/."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] != ["COPY"] or words[1].startswith("--"):
            continue
        for source in words[1:-1]:
            target = tmp_path / source
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / source, target)
    assert not (tmp_path / "sandbox").exists()
    assert not (tmp_path / "demo").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "QONADMIN_", "QONVERSION_"))}
    env |= PRODUCTION_ENV | {
        "DJANGO_SETTINGS_MODULE": "qonadmin.settings",
        "DJANGO_ALLOWED_HOSTS": "qonadmin.example.com,testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONPATH": str(tmp_path),
    }

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout

    manage("migrate", "--noinput", "-v", "0")
    assert "no issues" in manage("check", "--deploy", "--fail-level", "WARNING")
    served = manage(
        "shell",
        "-c",
        "from django.test import Client; r = Client().get('/healthz', secure=True); print(r.status_code, r.content)",
    )
    assert "200" in served and "ok" in served
