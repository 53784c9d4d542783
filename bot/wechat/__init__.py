"""WeChat Official Account (公众号) on wechatpy: passive replies, customer-service and
template messages, safe mode."""
