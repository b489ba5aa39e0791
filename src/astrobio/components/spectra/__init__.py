"""spectra: conditional diffusion over exoplanet transmission spectra, judged on held-out parameters."""
