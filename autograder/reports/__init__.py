"""Grading outcomes and the forms they take: console table, Gradescope results.json."""
