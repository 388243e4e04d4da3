"""The machinery behind :mod:`singletable.testing` (private; import from there)."""
