"""Outbound channels: email through SES (email.py, compose.py, tokens.py) and Slack (slack.py)."""
