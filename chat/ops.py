"""Operations surface of chat: WebSocket connection stats, the stale sweep on demand, gauges."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from prometheus_client.core import GaugeMetricFamily
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from supportdesk.ops import OpsAccess

from . import selectors, services


class ConnectionStatsSerializer(serializers.Serializer):
    total_connections = serializers.IntegerField()
    customer_connections = serializers.IntegerField()
    agent_connections = serializers.IntegerField()
    active_sessions = serializers.IntegerField(
        help_text="Sessions with at least one customer socket open."
    )


class ConnectionCleanupSerializer(serializers.Serializer):
    stale_connections_cleaned = serializers.IntegerField()
    current_stats = ConnectionStatsSerializer()


class ConnectionStatsApi(APIView):
    """GET: open WebSocket connections (all processes, from the connection registry)."""

    permission_classes = [OpsAccess]

    @extend_schema(tags=["ops"], responses=ConnectionStatsSerializer)
    def get(self, request):
        return Response(selectors.connection_stats())


class ConnectionCleanupApi(APIView):
    """POST: run the stale-connection sweep now (what beat runs every 30 s)."""

    permission_classes = [OpsAccess]

    @extend_schema(tags=["ops"], request=None, responses=ConnectionCleanupSerializer)
    def post(self, request):
        cleaned = services.connections_cleanup_stale()
        return Response(
            {"stale_connections_cleaned": cleaned, "current_stats": selectors.connection_stats()}
        )


class ConnectionStatsCollector:
    """Prometheus gauges computed at scrape time from the database (two aggregate queries)."""

    def collect(self):
        """Yield connection, active-session and unclosed-session gauges."""
        stats = selectors.connection_stats()
        connections = GaugeMetricFamily(
            "supportdesk_ws_connections",
            "Open WebSocket connections (all processes), by kind.",
            labels=["kind"],
        )
        connections.add_metric(["customer"], stats["customer_connections"])
        connections.add_metric(["agent"], stats["agent_connections"])
        yield connections
        yield GaugeMetricFamily(
            "supportdesk_active_sessions",
            "Sessions with at least one customer socket open.",
            value=stats["active_sessions"],
        )
        sessions = GaugeMetricFamily(
            "supportdesk_sessions",
            "Sessions not closed, by status (escalated: waiting for a person).",
            labels=["status"],
        )
        for status, count in selectors.sessions_unclosed_counts().items():
            sessions.add_metric([status], count)
        yield sessions
