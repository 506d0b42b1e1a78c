"""Scenario comparison: run scenario files, tabulate coverage, fairness and cost, write the report."""
