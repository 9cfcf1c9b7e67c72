"""Shared kernel: settings, database schema, scope, i18n, ID-number helpers. Imports neither Dash nor pipeline."""
