"""Tickets: repair requests 报修 and complaints 投诉, their lifecycle and queries."""
