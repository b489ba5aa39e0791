"""Orchestration of the five phases: the KFP pipeline, its components, and the local runner.

The graph comes from `astrobio.catalog.PHASES` only, so the cluster pipeline
(`kfp_pipeline.build_pipeline`) and a local run (`local_run.run_pipeline_locally`) cannot disagree
on which phase reads what. Nothing is imported here: `kfp` stays out of commands that do not need it.
"""
