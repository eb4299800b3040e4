"""Running reportgen every day: the scheduler, backfill, recovery and checks. Ops drive the
pipeline, never the reverse: the day guard and the locks the pipeline takes are
`reportgen.dayguard` and `reportgen.locks`.
"""
