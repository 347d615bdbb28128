"""Sample math shared by the speech and audio stages: the sample type, loudness, levelling."""
