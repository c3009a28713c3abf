"""The use cases: a night, a school run, a group reconcile, the on-demand commands.

Each takes its ports (state, exports, Graph, bus, clock) through `Services`, so the same code
runs under the Functions host, the `groupsync` command and the tests.
"""
