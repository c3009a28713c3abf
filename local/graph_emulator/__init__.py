"""An in-memory stand-in for the slice of Microsoft Graph v1.0 that the group sync uses
(groups, users, Education classes, $batch, delta), with Graph's limits, error bodies,
throttling and replication lag, plus an admin API under `/_emulator/`.

    python -m local.graph_emulator --port 8080 --replication-lag 2 --fail-429 0.05
"""
