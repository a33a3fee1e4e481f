"""Transport-neutral response value produced by the API and control handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

JSON_CONTENT_TYPE = "application/json"


def encode_json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # True = close the socket without writing anything (the "drop" fault).
    drop: bool = False

    @classmethod
    def json(cls, status: int, payload: Any) -> Response:
        return cls(status=status, body=encode_json(payload))

    @classmethod
    def empty(cls, status: int) -> Response:
        return cls(status=status)

    @classmethod
    def dropped(cls) -> Response:
        return cls(status=0, drop=True)

    def with_header(self, name: str, value: str) -> Response:
        return replace(self, headers=(*self.headers, (name, value)))

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300
