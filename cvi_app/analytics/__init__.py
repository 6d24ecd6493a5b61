"""Conversation analytics, computed from the stored events (so past conversations have them too).

`figures.py` turns one conversation's stored moments into its figures and timeline (pure, no
I/O); `insights.py` sums many conversations' figures; `reading.py` reads what they need from
the store, bounded.
"""
