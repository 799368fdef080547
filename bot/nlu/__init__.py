"""Custom NLU: the knowledge-base vocabulary matcher and its Rasa component."""
