"""RQ job functions and the cron schedule; imports quota_sentinel, never the reverse."""
