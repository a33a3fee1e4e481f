"""Write local demo settings (fresh random secrets) for `make run` to stdout.

Standard library only: it runs before Django is configured.
"""

import base64
import os
import secrets

print("# Local demo settings written by `make run`. Git ignores this file; never use it in production.")
print(f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}")
print(f"QONADMIN_ENCRYPTION_KEYS=demo1:{base64.urlsafe_b64encode(os.urandom(32)).decode()}")
print("DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost")
print("QONADMIN_HTTPS=false")
print("QONADMIN_DEMO=true")
