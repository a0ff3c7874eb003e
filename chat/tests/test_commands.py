"""Management commands of chat."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat.models import Connection

pytestmark = pytest.mark.django_db


def test_connections_cleanup_removes_stale_rows_or_all():
    now = timezone.now()
    Connection.objects.create(channel_name="fresh", kind="customer", last_seen_at=now)
    Connection.objects.create(
        channel_name="old", kind="customer", last_seen_at=now - timedelta(minutes=10)
    )
    call_command("connections_cleanup", stdout=StringIO())
    assert list(Connection.objects.values_list("channel_name", flat=True)) == ["fresh"]
    call_command("connections_cleanup", "--all", stdout=StringIO())
    assert not Connection.objects.exists()
