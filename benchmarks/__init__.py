"""Benchmarks of the routing engine: PVRP (Cordeau), VRPTW (Solomon), CVRP (CVRPLIB X). See README.md."""
