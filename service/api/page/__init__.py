"""The dyad page: server-rendered HTML an EHR embeds through a view link (no scripts, no
CDN, nothing to build)."""
