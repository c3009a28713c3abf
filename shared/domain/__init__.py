"""The domain: MIS snapshots, school settings, naming and the owner/member policy. No I/O."""
