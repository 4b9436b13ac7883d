"""Live updates by push: which channels hear about a committed event (channels.py), who may
subscribe or publish where (access.py), publishing to AppSync Events (appsync.py) and the push
consumer's work on one batch of events (relay.py)."""
