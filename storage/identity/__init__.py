"""Chat accounts bound to people: binding codes, unit and phone, the desk's approval."""
