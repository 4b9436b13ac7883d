"""Agent notifications: who hears about which event (rules), how (preferences, quiet hours), and
delivery by email (SES) and Slack DM, exactly once per (event, recipient, channel) in practice."""
