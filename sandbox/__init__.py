"""Stateful local simulator of the Qonversion REST API v4 Integrations endpoints.

Standard library only, so it runs as its own process (``python -m sandbox``) or
in-process for tests (``running_sandbox``).  See README.md. "§n" in this package
and its tests means section n of docs/qonversion-v4-integrations.md, the contract.
"""

from sandbox.clock import ManualClock
from sandbox.config import SandboxConfig
from sandbox.server import make_server, running_sandbox, serving_sandbox

__all__ = [
    "ManualClock",
    "SandboxConfig",
    "make_server",
    "running_sandbox",
    "serving_sandbox",
]
