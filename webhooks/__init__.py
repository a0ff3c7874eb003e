"""Signed outgoing webhooks: endpoints, deliveries, retries, and the SSRF guard."""
