"""Adapters and wiring: the ``wuye`` command, and (later issues) the Telegram, WeChat and
console channels, the web app and the outbox dispatcher."""
