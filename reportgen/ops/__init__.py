"""Running reportgen every day: locks, run records, the scheduler, backfill and checks.

Kept light on purpose: `reportgen.pipeline` imports `reportgen.ops.guard`, so nothing here
may import the pipeline at module level.
"""
