"""The knowledge base: YAML source in data/kb, loaded into a SQL database the actions query."""
