"""Training the network: losses, the trainer, mixtures of synthetic stems, and threshold tuning."""
