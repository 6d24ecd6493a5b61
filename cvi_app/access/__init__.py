"""Who may act: browsers' owner cookies, the web guard in front of every request, start limits."""
