"""Routing and assignment: rules pick a team for a new ticket (rules.py), open_ticket creates it and
push-assigns it in one statement (intake.py), and assignment.py claims, pushes, back-fills and hands
tickets over during an absence (docs/architecture.md, "Data flows")."""
