"""Event Grid custom-topic emulator: publish with a key or token, read back, push to webhooks."""

from emulators.eventgrid.emulator import DEFAULT_TOPIC_KEY, TOPIC_PATH, EventGridEmulator

__all__ = ["DEFAULT_TOPIC_KEY", "TOPIC_PATH", "EventGridEmulator"]
