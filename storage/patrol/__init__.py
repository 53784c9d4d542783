"""Patrol findings 巡查: the one-week deadline, extensions, the fix and its verification."""
