"""People: residents of units, staff in departments with a role, and who may do what."""
