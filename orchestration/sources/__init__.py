"""One module per external system. Each defines:

    RESOURCE_KEY: str                                   # the Dagster resource key
    class <Name>Settings(SourceSettings)                # its environment variables, one field each
    class <Name>Resource(SourceResource)                # SETTINGS = that class; make_client(settings)
    def resource(environment) -> SourceResource         # the configured resource
    ASSETS: list[StreamAsset]                           # its streams, as raw assets (stream_asset(...))
    CHECKS: list                                        # its asset checks (may be empty)

orchestration.definitions discovers them (SKW_SOURCES can leave some out).
"""

import importlib
import pkgutil


def modules():
    import orchestration.sources as pkg

    return [
        importlib.import_module(f"orchestration.sources.{m.name}")
        for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name)
    ]


def settings_of(module):
    """The `SourceSettings` class of a source module: its environment variables."""
    from orchestration.resources import SourceEnvironment

    return module.resource(SourceEnvironment()).SETTINGS
