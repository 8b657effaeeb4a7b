"""Routes that belong to neither family: health, the docs UI."""
