"""One module per domain of the sample world. Each exposes:

    DOMAIN: str                     # folder name under the world, and key in truths.json
    def generate(spec, ents, out: Path) -> dict   # write files under `out`, return its truths

`sampleworld.world.generate` discovers them; a domain draws only from `rng_for(spec, DOMAIN, ...)`
so domains are independent of each other's order.
"""
