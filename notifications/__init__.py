"""Notifications after a hand-over: expected reply time, emails to an away customer, transcripts."""
