"""Conversation state, messages already handled, department notice groups, WeChat's windows."""
