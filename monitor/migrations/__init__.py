"""The database's schema history, applied by monitor.migrate."""
