"""Where wuye meets the world: the ``Channel`` interface every platform implements (a folder
each: ``telegram/``, ``wechat/``, ``wecom/``), their registry, the web app they mount on, the
outbox dispatcher, the console, and the ``wuye`` command."""
