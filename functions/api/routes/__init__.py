"""The API's routes, one Router per resource (mounted under /api/v1 by app.py)."""
