"""The assistant's library: knowledge base, safety screening, recommendations, NLU and channels."""
