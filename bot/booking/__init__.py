"""Booking requests: what a person asked to book, with the intake the conversation gathered."""
