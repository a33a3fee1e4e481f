"""The state file: the sandbox's records kept across restarts (``--state-file PATH``).

What is kept is what Qonversion itself would keep: every project's integrations
(deleted ones included, with their deletion mark), every id ever minted, the
idempotency records and both RNGs' positions - so a restart with the same
``--seed`` continues the id stream instead of replaying it, and no id is ever
handed out twice.  Faults, the request log and rate-limit windows describe the
running process only and start empty.

The file is rewritten whole after every change (a temporary file in the same
directory, then an atomic rename), so a reader - or a restart after ``kill -9`` -
sees either the previous state or the new one, never half of one.  A file that
cannot be read or understood is set aside as ``PATH.corrupt`` and the sandbox
starts empty, saying so on stderr; it never refuses to start because of it.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from sandbox.responses import Response
from sandbox.store import IdempotencyRecord, Integration, SandboxStore

FORMAT = "qonversion-sandbox-state"
VERSION = 1


class StateFileError(ValueError):
    """The file exists but is not a state file this sandbox can use."""


class StateFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._saved_revision: int | None = None

    # --- loading -----------------------------------------------------------

    def load_into(self, store: SandboxStore) -> bool:
        """Fill `store` from the file; False (and a message on stderr) when it starts empty
        because the file is unusable. A missing file is a first start, not a problem."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._saved_revision = None
            return True
        except (OSError, UnicodeDecodeError) as error:
            self._start_fresh(f"cannot read it ({error})")
            return False
        try:
            _restore(store, json.loads(text))
        except (ValueError, TypeError, KeyError, IndexError) as error:
            self._start_fresh(f"it is not a usable sandbox state file ({type(error).__name__}: {error})")
            return False
        self._saved_revision = store.revision
        return True

    def _start_fresh(self, why: str) -> None:
        kept = self.path.with_name(self.path.name + ".corrupt")
        try:
            self.path.replace(kept)
            where = f"the file was moved to {kept}"
        except OSError:
            where = "the file was left where it is and will be overwritten by the next change"
        _warn(f"could not load the state file {self.path}: {why}; starting with an empty sandbox ({where}).")

    # --- saving ------------------------------------------------------------

    def save_if_changed(self, store: SandboxStore) -> None:
        """Write the file when the store changed since the last write.

        Snapshot and write happen under the store lock, so two requests finishing at
        once never interleave their writes and the file always holds one moment."""
        with store.lock:
            if store.revision == self._saved_revision:
                return
            revision = store.revision
            payload = {"format": FORMAT, "version": VERSION, **store.snapshot()}
            try:
                self._write(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
            except OSError as error:
                # Keep serving; the next change tries again.
                _warn(f"could not save the state file {self.path}: {error}")
                return
            self._saved_revision = revision

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Same directory, so the rename is atomic; 0600 because the projects are
        # keyed by the secret keys callers used.
        handle, temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as temp:
                temp.write(text)
            Path(temp_name).replace(self.path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise


def _warn(text: str) -> None:
    # Straight to stderr, whether or not logging is configured (tests, `python -m sandbox`).
    sys.stderr.write(f"sandbox: {text}\n")
    sys.stderr.flush()


# --- decoding (strict: anything unexpected makes the whole file unusable) ---------


def _restore(store: SandboxStore, data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateFileError("not a sandbox state file")
    if data.get("version") != VERSION:
        raise StateFileError(f"unsupported version {data.get('version')!r}")
    projects: dict[str, dict[str, Integration]] = {}
    for key, records in _typed(data["projects"], dict).items():
        projects[key] = {}
        for raw in _typed(records, list):
            record = _integration(raw)
            projects[key][record.id] = record
    minted = {_typed(item, str) for item in _typed(data["minted_ids"], list)}
    idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
    for raw in _typed(data["idempotency"], list):
        body = raw["body"]
        response = Response(
            status=_typed(raw["status"], int),
            body=None if body is None else _typed(body, str).encode("latin-1"),
            headers=tuple((_typed(name, str), _typed(value, str)) for name, value in _typed(raw["headers"], list)),
        )
        idempotency[(_typed(raw["project_key"], str), _typed(raw["idempotency_key"], str))] = IdempotencyRecord(
            fingerprint=_typed(raw["fingerprint"], str),
            response=response,
            stored_at=float(_typed(raw["stored_at"], (int, float))),
        )
    rngs = _typed(data["rng"], dict)
    store.restore(
        projects=projects,
        minted_ids=minted,
        idempotency=idempotency,
        id_rng=_rng(rngs["ids"]),
        delivery_rng=_rng(rngs["deliveries"]),
    )


def _integration(raw: Any) -> Integration:
    raw = _typed(raw, dict)
    return Integration(
        id=_typed(raw["id"], str),
        title=_typed(raw["title"], str),
        slug=_typed(raw["slug"], str),
        display_title=_typed(raw["display_title"], str),
        target_platform=_typed(raw["target_platform"], str),
        active=_typed(raw["active"], int),
        created_at=_typed(raw["created_at"], int),
        updated_at=_typed(raw["updated_at"], int),
        last_delivery_at=_optional(raw["last_delivery_at"], int),
        last_error_at=_optional(raw["last_error_at"], int),
        last_error_message=_optional(raw["last_error_message"], str),
        delivery_error_count=_typed(raw["delivery_error_count"], int),
        deleted=_typed(raw["deleted"], bool),
    )


def _rng(raw: Any) -> random.Random:
    version, internal, gauss_next = _typed(raw, list)
    rng = random.Random()  # noqa: S311 - a simulation RNG, restored to where it was
    rng.setstate((version, tuple(_typed(internal, list)), gauss_next))
    return rng


def _typed(value: Any, kind: type | tuple[type, ...]) -> Any:
    # bool is an int in Python; a JSON true is never a valid count or timestamp here.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StateFileError(f"unexpected value {value!r}")
    return value


def _optional(value: Any, kind: type) -> Any:
    return None if value is None else _typed(value, kind)
