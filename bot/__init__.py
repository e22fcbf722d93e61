"""The runtime: settings, wiring, the ``patentbot`` command and the transports."""
