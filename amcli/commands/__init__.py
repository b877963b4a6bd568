"""One module per CLI command: its ``@hydra.main`` entry and orchestration, nothing more."""
