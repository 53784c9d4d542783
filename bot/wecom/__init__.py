"""WeCom (企业微信): staff notices through the company's own app, when it is configured."""

PLATFORM = "wecom"
