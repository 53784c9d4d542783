"""Values every worker shares, with an expiry (WeChat's access token)."""
