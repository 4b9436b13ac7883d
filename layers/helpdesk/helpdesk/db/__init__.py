"""Database access: the Data API client, the SQL statements and the migrations. SQL lives only here."""
