"""Audio building blocks: tones, loudness levelling, mixing and encoding."""
