"""SLA engine: business-hour schedules, policies, clocks, the sweep and reports (docs/architecture.md, "SLA")."""
from helpdesk.sla.business_hours import Schedule, add_business_time, business_time_between

__all__ = ["Schedule", "add_business_time", "business_time_between"]
