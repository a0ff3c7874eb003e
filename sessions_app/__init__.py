"""The support conversation's lifecycle: SupportSession, its services, selectors and admin."""
