"""Thin GraphQL field functions and DataLoaders: parse input, call ``domain/``, load rows."""
