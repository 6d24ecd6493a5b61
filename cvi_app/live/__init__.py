"""Live conversations: sessions, the update bus, tools, and how updates look in the room."""
