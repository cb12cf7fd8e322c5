"""Discrete-event model of the Twittcom flow for capacity planning (see ``simulator.model``)."""
