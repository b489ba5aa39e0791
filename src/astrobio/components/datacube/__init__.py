"""datacube: a CNN-ViT surrogate of exoplanet climate fields generated with clero, judged on
held-out RMSE against nearest-neighbour and linear baselines.

`astrobio.config.schema` imports component config classes, and they import
`astrobio.config.sections`, whose package `__init__` imports the schema. Importing the config
package first, here, makes the order the same whichever module a caller imports first.
"""

import astrobio.config  # noqa: F401  (import order, see above)
