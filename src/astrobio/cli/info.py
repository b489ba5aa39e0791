"""`astrobio components` and `astrobio config show`: what is registered, and what a config resolves to."""

from __future__ import annotations

from astrobio.cli.options import ConfigOpt, SetOpt, guarded_command, load


@guarded_command
def components_cmd() -> None:
    """List the registered model components."""
    # from the catalog rows, not get_spec: a SPEC imports torch (and llm's transformers), seconds
    # spent to print three strings that get_spec checks against these rows anyway
    from astrobio.catalog import component, component_names

    for name in component_names():
        row = component(name)
        print(f"{name:12s} phase={row.phase:10s} image={row.image:24s} {row.description}")


@guarded_command
def config_show_cmd(config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Print the resolved config (file + overrides + defaults) as YAML."""
    from astrobio.config import to_yaml

    print(to_yaml(load(config, set_)), end="")
