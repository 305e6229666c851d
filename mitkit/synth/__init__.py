"""Synthetic data: instrument classes, scores, FluidSynth rendering, datasets and benchmarks.

The pipeline never imports this package; training and evaluation do.
"""
