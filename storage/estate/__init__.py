"""Estates, buildings and units, and the estate file they are imported from."""
