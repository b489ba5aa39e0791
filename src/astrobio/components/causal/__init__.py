"""causal: a NOTEARS-family causal world model with physics priors and counterfactuals."""
