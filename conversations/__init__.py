"""Platform-neutral chat flows and their engine (issue 3). Never imports telegram or wechatpy."""
