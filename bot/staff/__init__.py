"""The staff page: booking requests for reception, behind its own login (bot/staff/web.py)."""
