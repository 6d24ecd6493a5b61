"""The cluster shape's own parts: session leases, routed sends, and takeover (on Redis).

With `REFLEX_REDIS_URL` set, every process runs a `ClusterNode` (node.py): it holds the leases
of the sessions it runs (leases.py), answers the sends other processes route to them
(commands.py, remote.py), and takes over the sessions of a process that died (takeover.py).
"""
