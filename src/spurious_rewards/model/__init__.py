"""Base models: the tiny offline model (tokenizer, corpus, pre-training) and loading of any model."""
