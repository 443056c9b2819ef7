"""Channel adapters: one module per platform, the common protocol, and local sandbox servers.

This package never imports ``bot`` and never touches the database.
"""
