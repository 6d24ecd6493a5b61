"""Files people upload, bounded and checked before use (today: WAV audio for echoes)."""
