"""The labels staff give to messages the assistant missed (the review page, bot/staff/review.py).

They share the knowledge base's database and metadata (DATABASE_URL), so one set of Alembic
migrations covers them (migrations/versions/0005_review_labels.py). They are the spa's own
records: a knowledge-base load never touches them.

A label points at the user message it was given to by its conversation and timestamp (the
tracker store's event), keeps the words it was given to (they become a training example in
data/nlu/reviewed.yml) and the topic staff chose. A message dismissed because it holds personal
details keeps its key only, never its text.
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, Text, UniqueConstraint

from bot.knowledge.models import Base

NOT_FOR_US = "out_of_scope"  # "not for us" is exported as Rasa's out_of_scope example
DISMISSED = "_dismissed"  # hidden from the review list, never exported


class ReviewLabel(Base):
    __tablename__ = "review_labels"
    __table_args__ = (UniqueConstraint("sender_id", "message_at", name="uq_review_labels_message"),)

    id = Column(Integer, primary_key=True)
    # The conversation and the user event's timestamp in the tracker store.
    sender_id = Column(String(255), nullable=False, index=True)
    message_at = Column(Float, nullable=False)
    text = Column(Text, nullable=False)  # empty for a dismissed message
    intent = Column(String(64), nullable=False)
    # [{"entity": "condition" | "body_part", "value": knowledge-base id, "words": words in the text}]
    entities = Column(JSON, nullable=False, default=list)
    guessed_intent = Column(String(64), nullable=True)
    guessed_confidence = Column(Float, nullable=True)
    reason = Column(String(16), nullable=False)  # fallback | ambiguous | low_confidence
    labelled_by = Column(String(64), nullable=False)
    labelled_at = Column(DateTime, nullable=False)
