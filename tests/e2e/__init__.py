"""End-to-end tests: the app host as a separate process against Azurite and the emulators."""
