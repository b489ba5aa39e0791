"""Model components: one folder each (config, data, model, task); listed in astrobio.catalog."""
