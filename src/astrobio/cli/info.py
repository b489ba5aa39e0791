"""`astrobio components` and `astrobio config show`: what is registered, and what a config resolves to."""

from __future__ import annotations

from astrobio.cli.options import ConfigOpt, SetOpt, guarded_command


@guarded_command
def components_cmd() -> None:
    """List the registered model components."""
    from astrobio.catalog import component_names, get_spec

    for name in component_names():
        spec = get_spec(name)
        print(f"{name:12s} phase={spec.phase:10s} image={spec.image:24s} {spec.description}")


@guarded_command
def config_show_cmd(config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Print the resolved config (file + overrides + defaults) as YAML."""
    from astrobio.config import load_config, to_yaml

    print(to_yaml(load_config(config, set_ or [])), end="")
