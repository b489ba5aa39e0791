"""datacube: a CNN-ViT surrogate of exoplanet climate fields generated with clero, judged on
held-out RMSE against nearest-neighbour and linear baselines."""
