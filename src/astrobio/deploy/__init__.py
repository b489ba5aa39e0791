"""The files a cluster is set up from, assembled from the renderers of two packages: each
component's PyTorchJob (`astrobio.kube.render`) and each tuning config's Katib Experiment (the one
Katib renderer, `astrobio.tune`). `manifests.py` writes `manifests/`, `chart.py` the Helm chart's
generated files. It sits above both so neither renderer imports the other."""
