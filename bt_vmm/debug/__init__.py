"""Diagnostics: tracing and run statistics."""
