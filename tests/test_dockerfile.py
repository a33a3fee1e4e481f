"""The image holds every product app the settings install, and nothing demo-only."""

import ast
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
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
