"""Where the warehouse, the landing area and the sample world live. All paths come from the
environment so a deployment can move them; the defaults sit under the git-ignored `data/`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_path: Path
    landing_dir: Path
    sample_dir: Path

    @classmethod
    def from_env(cls) -> "Settings":
        data = Path(os.environ.get("SKW_DATA_DIR") or REPO_ROOT / "data").resolve()
        return cls(
            data_dir=data,
            warehouse_path=Path(os.environ.get("SKW_WAREHOUSE_PATH") or data / "warehouse.duckdb").resolve(),
            landing_dir=Path(os.environ.get("SKW_LANDING_DIR") or data / "landing").resolve(),
            sample_dir=Path(os.environ.get("SKW_SAMPLE_DIR") or data / "sample").resolve(),
        )
