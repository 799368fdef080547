"""Daily figures per channel from Rasa's event stream, for the spa's staff.

`consumer.py` reads the events Rasa publishes to RabbitMQ (its own queue, bound to Rasa's
fanout exchange, so it does not take events from anyone else) and keeps, per day and channel:
conversations, recommendations made, booking offers, handoffs, red flags, absolute
contraindications, fallbacks and crisis replies (in all and per tier), plus the messages that
caused each fallback (what the assistant could not answer; never a crisis message). It also serves
the report (HTML and JSON) behind the API token. `figures.py` is the pure part: which event counts
as what.
"""
