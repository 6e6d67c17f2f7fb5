"""Item pipelines, in order: normalize → validate → dedupe → store."""
