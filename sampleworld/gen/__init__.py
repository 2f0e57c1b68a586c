"""One module per domain of the sample world. Each exposes:

    DOMAIN: str                     # folder name under the world, and key in truths.json
    def generate(spec, ents, out: Path) -> dict   # write files under `out`, return its truths

`sampleworld.world.generate` discovers them; a domain draws only from its own streams,
`rng_for(spec, DOMAIN, ...)` (the survey's keep its former name, `csat`), so domains are
independent of each other's order. DOMAIN is the module's name (what SKW_SAMPLE_DOMAINS
selects by).
"""
