"""Daphne's transport, hardened: the protocol and factory classes supportdesk.serve installs."""
