"""API keys for integrations: hashed keys with scopes, their DRF authentication and permission."""
