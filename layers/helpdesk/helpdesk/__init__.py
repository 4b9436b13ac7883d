"""Help desk domain: tickets, intake, routing, SLA, outbound, events and Data API access.

Nothing in this package knows about Lambda events; handlers in functions/ translate.
"""
