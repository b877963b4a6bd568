"""Metrics that judge audio: acoustic cues now; AM-specific metrics arrive with their issue."""
