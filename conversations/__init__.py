"""Platform-neutral chat flows, one module per domain object (``flows/``), the kinds of
question they ask (``steps.py``), the summaries people read, and the engine that runs them.
Never imports telegram or wechatpy."""
