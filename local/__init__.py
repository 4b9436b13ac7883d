"""The local stack: embedded PostgreSQL, local Data API, moto, HTTP and SMTP front doors."""
