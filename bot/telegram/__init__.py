"""Telegram on python-telegram-bot 22, used as transport only: wuye's own flows and state."""

import os

# Opt in to PTB's future: durations such as a 429's retry_after as timedelta, not int
# (deprecated since v22.2). The sender handles both.
os.environ.setdefault("PTB_TIMEDELTA", "true")
