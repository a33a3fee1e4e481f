"""gunicorn settings for qonadmin, used by `make run`, the Docker image and the benchmarks.

A request mostly waits: on the database, and on Qonversion for up to the bound on waiting
(QONVERSION_DEADLINE_SECONDS, 10 s). Waiting threads cost no CPU, so each worker runs many
of them: a few slow Qonversion calls must not leave pages that never call it (the team
overview, the create form) queueing for a free thread.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Well above the bound on waiting (10 s) and a bulk step (10 s): a request this old is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On stop (Ctrl-C in `make run`, SIGTERM in a container) a worker finishes the requests it
# has, which the 10 s bound on waiting for Qonversion keeps short, instead of waiting out
# gunicorn's default 30 s for idle keep-alive connections.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "12"))
