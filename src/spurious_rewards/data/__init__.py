"""Problem sets: synthetic generation and loaders for the paper's data, in {id, prompt, answer, source}."""
