"""The care moderation monitor: poll → store → classify → notify."""
