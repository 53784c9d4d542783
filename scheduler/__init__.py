"""The clock: one registry of jobs (digests, due callbacks, escalations, monthly reports)
calling the same services as the chat. Everything it sends goes through the outbox; it
talks to no platform."""
