"""HTTP transport: ThreadingHTTPServer, request handler, test helpers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sandbox.api import handle_v4
from sandbox.app import Sandbox
from sandbox.auth import key_hint
from sandbox.config import SandboxConfig
from sandbox.control import CONTROL_PREFIX, CONTROL_ROUTES
from sandbox.delivery import DeliveryWorker
from sandbox.errors import ApiError, bad_request, unknown_url
from sandbox.responses import JSON_CONTENT_TYPE, Response
from sandbox.routing import Request, dispatch
from sandbox.store import RequestLogEntry

logger = logging.getLogger("sandbox")

API_PREFIX = "/v4"
MAX_BODY_BYTES = 1024 * 1024


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def handle_request(sandbox: Sandbox, request: Request) -> Response:
    """Transport-independent entry point: any request in, a Response out."""
    try:
        if _under(request.path, CONTROL_PREFIX):
            return dispatch(CONTROL_ROUTES, sandbox, request)
        if _under(request.path, API_PREFIX):
            return handle_v4(sandbox, request)
        raise unknown_url(request.method, request.path)
    except ApiError as error:
        return error.to_response()
    except Exception:  # a sandbox bug must still answer with the v4 envelope
        logger.exception("unhandled error for %s %s", request.method, request.path)
        return ApiError(500, "unknown_error", "Internal sandbox error", error_type="internal").to_response()


class SandboxRequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive like the real API; every response carries Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "QonversionSandbox/1"
    # Headers and body are separate writes; without TCP_NODELAY, Nagle + delayed ACK
    # add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: SandboxServer

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        generation = self.server.sandbox.generation
        try:
            body = self._read_body()
        except ApiError as error:
            # We could not consume the body, so the connection cannot be reused.
            self.close_connection = True
            response = error.to_response()
        else:
            request = Request(
                method=self.command,
                path=path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            response = handle_request(self.server.sandbox, request)
            # Before answering: a caller that got its answer finds it again after a
            # restart, even a kill -9 right after.
            self.server.sandbox.save_state()
        self._send(response)
        self._record(path, response, logged=generation == self.server.sandbox.generation)

    # Method names are dictated by BaseHTTPRequestHandler; every verb goes through routing.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        # Any other verb (TRACE, CONNECT, PROPFIND, …) is routed too, so it gets the v4
        # error envelope (405 with Allow on a known path) instead of the stdlib's HTML 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the stdlib answers by itself (malformed request line, headers too long, …):
        the v4 error envelope too, never an HTML page."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        # A request line that could not be parsed leaves the stdlib's HTTP/0.9 default,
        # which would suppress the status line and headers.
        self.request_version = self.protocol_version
        error_type, error_code = ("internal", "unknown_error") if code >= 500 else ("request", "invalid_request")
        text = message or HTTPStatus(code).phrase
        self._send(ApiError(code, error_code, text, error_type=error_type).to_response())

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise bad_request("Chunked request bodies are not supported; send Content-Length")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise bad_request("Invalid Content-Length header") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise bad_request(f"Request body must be 0..{MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _send(self, response: Response) -> None:
        if response.drop:
            # Close the socket without writing a single byte.
            self.close_connection = True
            return
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            if response.body is not None and not any(name.lower() == "content-type" for name, _ in response.headers):
                self.send_header("Content-Type", JSON_CONTENT_TYPE)
            if response.status != 204:  # RFC 9110 §8.6: no Content-Length on a 204
                self.send_header("Content-Length", str(len(response.body or b"")))
            self.end_headers()
            if response.body is not None and self.command != "HEAD":
                self.wfile.write(response.body)
        except OSError:  # client went away mid-response
            self.close_connection = True

    def _record(self, path: str, response: Response, *, logged: bool = True) -> None:
        status = None if response.drop else response.status
        authorization = self.headers.get("Authorization")
        hint = key_hint(authorization)
        logger.info(
            "%s %s -> %s key=%s",
            self.command,
            path,
            "dropped" if status is None else status,
            hint or "-",
        )
        if logged and not _under(path, CONTROL_PREFIX):
            self.server.sandbox.store.log_request(
                RequestLogEntry(
                    method=self.command,
                    path=path,
                    status=status,
                    idempotency_key=self.headers.get("Idempotency-Key"),
                    key_hint=hint,
                )
            )

    def log_message(self, format: str, *args: object) -> None:
        # The stdlib access log is replaced by _record (which masks keys).
        return

    def log_error(self, format: str, *args: object) -> None:
        logger.warning(format, *args)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True  # in-flight requests (e.g. delay faults) never block shutdown
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops SYNs under a burst of parallel
    # clients, which then stall for a full second on TCP retransmission.
    request_queue_size = 128

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        super().__init__((host, port), SandboxRequestHandler)
        self.sandbox = sandbox
        self._worker: DeliveryWorker | None = None

    @property
    def root_url(self) -> str:
        host, port = self.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else host
        return f"http://{host_text}:{port}"

    @property
    def api_url(self) -> str:
        return self.root_url + API_PREFIX

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        interval = self.sandbox.config.delivery_interval
        if interval > 0 and self._worker is None:
            self._worker = DeliveryWorker(self.sandbox.store, interval, after_round=self.sandbox.save_state)
            self._worker.start()
        try:
            super().serve_forever(poll_interval)
        finally:
            self._stop_worker()

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def server_close(self) -> None:
        self._stop_worker()
        self.sandbox.save_state()
        super().server_close()


def make_server(config: SandboxConfig, host: str, port: int) -> SandboxServer:
    """A bound, not yet serving sandbox server (port 0 = pick a free port)."""
    return SandboxServer(Sandbox(config), host, port)


@contextmanager
def serving_sandbox(config: SandboxConfig | None = None) -> Iterator[SandboxServer]:
    """Serve on 127.0.0.1:<free port> in a daemon thread; yields the server."""
    server = make_server(config or SandboxConfig(), "127.0.0.1", 0)
    # A short poll interval keeps shutdown (and so each test) fast.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def running_sandbox(config: SandboxConfig | None = None) -> Iterator[str]:
    """Serve in a daemon thread; yields the root URL, e.g. ``http://127.0.0.1:54321``.

    The Qonversion base URL is ``<root>/v4``; the control API is ``<root>/_sandbox``.
    """
    with serving_sandbox(config) as server:
        yield server.root_url
