"""Channel adapters that turn what arrives (mail, forms, chat, Slack) into ticket commands."""
