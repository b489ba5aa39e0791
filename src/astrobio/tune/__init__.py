"""Hyperparameter search: one `tune:` section, two backends whose trials are real training runs.

- `config.TuneSection`: the schema (imports only pydantic; the root config can hold it).
- `load.load_tune_config`: YAML + `--set` -> validated run config + search, paths checked.
- `space.SearchSpace`: the same space as Optuna distributions, Katib ParameterSpecs, `--set` args.
- `optuna_backend.run_study`: local, resumable study; `katib_backend.submit_experiment`: Experiment.
- `manifests.render_tuning_manifests`: `manifests/katib-<name>.yaml` for `configs/tune-*.yaml`.
- `cli.tune_command`: the `astrobio tune` command.

Submodules are imported where used, so importing this package costs nothing.
"""
