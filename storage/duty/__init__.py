"""Duty: the desk's hours, and the roster (值班表) of who answers for a department when."""
