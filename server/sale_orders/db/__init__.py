"""Database layer: tables, migrations, engines and the embedded server."""
