"""Inbound email: parse (parse.py), classify (classify.py), thread and write (service.py)."""
from helpdesk.intake.email.service import EmailIntake, IntakeOutcome

__all__ = ["EmailIntake", "IntakeOutcome"]
