"""Measuring mitkit: metrics, benchmark folders, baselines, systems under test, and speed."""
