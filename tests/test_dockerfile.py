"""The image must contain every Django app the settings install."""

from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


def test_the_dockerfile_copies_every_local_app_and_the_templates():
    dockerfile = (ROOT / "Dockerfile").read_text()
    local = {
        config.name.split(".")[0] for config in apps.get_app_configs() if (ROOT / config.name.split(".")[0]).is_dir()
    }
    assert local, "expected local apps"
    for package in sorted(local | {"qonadmin", "templates", "static"}):
        assert f"COPY {package} ./{package}" in dockerfile, package
