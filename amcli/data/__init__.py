"""Datasets: the synthetic corpus generator (``amcli.data.synth``); real-dataset loaders follow."""
