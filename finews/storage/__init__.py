"""The archive: MongoDB access (archive.py), document rules (documents.py), the local journal, the embedded server."""
