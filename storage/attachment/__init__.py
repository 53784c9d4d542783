"""Photos and voice notes attached to tickets and patrol findings."""
