"""The Celery app: tasks are discovered and beat sweeps stale connections every 30 s."""

from supportdesk.celery import app


def test_tasks_are_registered_with_their_reliability_options():
    app.loader.import_default_modules()
    reply = app.tasks["agents.tasks.agent_reply"]
    assert reply.acks_late and reply.reject_on_worker_lost and reply.max_retries == 3
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert reply.time_limit < visibility and reply.soft_time_limit < reply.time_limit
    assert "agents.tasks.kb_rebuild_index" in app.tasks


def test_beat_runs_the_stale_connection_sweep_every_30_seconds():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["connections-cleanup-stale"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 30.0
