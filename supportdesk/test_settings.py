"""Settings for the test suite: the normal settings plus a fast password hasher."""

import os

os.environ.setdefault("SUPPORTDESK_TESTING", "1")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
