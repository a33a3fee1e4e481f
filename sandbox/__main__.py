"""``python -m sandbox`` - run the sandbox until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from sandbox.config import load_settings
from sandbox.server import make_server


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    server = make_server(settings.config, settings.host, settings.port)
    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("sandbox").info("signal %d received, shutting down", signum)
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    # serve_forever runs in a thread because shutdown() must be called from a
    # different thread than the one serving; the main thread waits for a signal.
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http")
    serving.start()
    print(f"Qonversion sandbox listening on {server.api_url}", flush=True)
    try:
        while not stop_requested.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        serving.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
