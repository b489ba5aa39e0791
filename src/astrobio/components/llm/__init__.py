"""llm: a small instruction LLM fine-tuned with LoRA, conditioned on fusion planet embeddings.

`astrobio.config.schema` imports this component's config class, and the config class imports
`astrobio.config.sections`, whose package `__init__` imports the schema. Importing the config
package first, here, makes the order the same whichever module a caller imports first, so
`import astrobio.components.llm.config` never meets a half-initialised module.
"""

import astrobio.config  # noqa: F401  (import order, see above)
