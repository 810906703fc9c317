"""Formatting only: plain-text exporters (JSON, CSV, Markdown), Rich renderers, charts and plots."""
