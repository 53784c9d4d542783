"""Clock jobs (issue 6): digests, due callbacks, escalations. Talks to no platform directly."""
