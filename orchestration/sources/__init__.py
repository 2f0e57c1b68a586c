"""One module per external system. Each defines:

    RESOURCE_KEY: str                       # the Dagster resource key
    def resource(fakes) -> SourceResource   # the configured resource
    ASSETS: list[StreamAsset]               # its streams, as raw assets (stream_asset(...))
    CHECKS: list                            # its asset checks (may be empty)

orchestration.definitions discovers them.
"""

import importlib
import pkgutil


def modules():
    import orchestration.sources as pkg
    return [importlib.import_module(f"orchestration.sources.{m.name}")
            for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name)]
