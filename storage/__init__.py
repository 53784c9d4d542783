"""The service desk's ground truth: models, rules and services, free of any platform.

Every rule of the procedures (``shared/DOMAIN.md``) lives here once. The chat
flows, the platform adapters and the scheduler call these services; nothing in
this package knows how a message reaches a person.
"""
