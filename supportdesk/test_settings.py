"""Settings for the test suite: the normal settings plus a fast password hasher."""

import os

os.environ.setdefault("SUPPORTDESK_TESTING", "1")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not :memory:, so the Daphne processes of browser tests share it; one per test
    # process, so two test runs on one machine don't delete each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405

if "MEDIA_ROOT" not in os.environ:
    # Uploads of a test run go to a directory of their own, not the developer's var/media.
    import tempfile
    from pathlib import Path

    MEDIA_ROOT = Path(tempfile.gettempdir()) / "supportdesk-test-media" / str(os.getpid())
