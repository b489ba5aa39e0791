"""spectra: conditional diffusion over exoplanet transmission spectra, judged on held-out parameters.

`astrobio.config.schema` imports this component's config class, and the config class imports
`astrobio.config.sections`, whose package `__init__` imports the schema. Importing the config
package first, here, makes the order the same whichever module a caller imports first.
"""

import astrobio.config  # noqa: F401  (import order, see above)
