"""Model components: one folder each (config, data, model, task); looked up through astrobio.registry."""
