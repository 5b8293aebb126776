"""Storage: SQLAlchemy models, the engine, migrations, seed data and read queries."""
