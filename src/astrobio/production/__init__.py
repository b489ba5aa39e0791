"""Phase 5, production: versioned model registry, export, int8 quantisation, latency/accuracy report.

Modules (one job each): `model_registry` (immutable content-hashed versions + aliases in the store),
`artifact` (rebuild a component from its artifact), `flat` (batches as tensor tuples for export),
`export` (torch.export -> TorchScript -> state dict), `quantize` (dynamic int8), `latency` (timing and
metric deltas), `release` (one component under a time budget), `report` (metrics/Markdown/HTML),
and `options`. The `astrobio models list|show|promote` commands are `astrobio.cli.models`; the
pipeline step that drives them is `astrobio.pipeline.production.run_production_step`.

Submodules are imported on use: the model registry needs no torch, the rest do.
"""
