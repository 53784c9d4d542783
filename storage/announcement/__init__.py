"""通知公告: notices to residents, outages among them, and who received them."""
