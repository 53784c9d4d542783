"""Callbacks 回访: when they are due (2 / 3 / 7 days), recording them, their notices."""
