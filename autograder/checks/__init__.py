"""Judging student results: test cases, comparisons with feedback, and the pytest plugin."""
