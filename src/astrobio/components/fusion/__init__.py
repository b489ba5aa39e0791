"""fusion: one planet representation from the phase-1 modalities (climate, spectrum, causal SCM,
metabolic network), judged against the best single modality on a physically derived target."""
