"""The outbox: notices written with the change that causes them, sent by the dispatcher."""
