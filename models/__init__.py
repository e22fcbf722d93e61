"""Tables, the engine/session factory, migrations and the queries the handlers need."""
