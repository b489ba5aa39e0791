"""graph_vae: a variational graph auto-encoder over metabolic networks, judged on held-out links.

`config` and `metrics` import only pydantic; `task` holds the `SPEC` the catalog loads, and pulls in torch,
torch-geometric and cobra only when a run actually needs them.
"""
