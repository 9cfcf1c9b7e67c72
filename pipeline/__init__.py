"""The write side: reference geography, generator, importer, rules, roll-ups. Never imports Dash."""
