"""Tests of the loopback emulators."""
