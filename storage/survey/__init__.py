"""业主评议: the quarterly satisfaction survey of the owners."""
