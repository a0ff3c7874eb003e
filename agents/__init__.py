"""The AI agent: knowledge base, retrieval, escalation policy, reply providers, Celery tasks."""
