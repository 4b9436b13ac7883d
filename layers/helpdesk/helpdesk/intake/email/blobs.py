"""Content-addressed storage for attachments: the key is the SHA-256 of the bytes, so the same
file sent twice (or a redelivered mail) is stored once and a write is always safe to repeat."""
from __future__ import annotations

from typing import Any, Protocol

PREFIX = "attachments/sha256/"


def key_for(sha256: str) -> str:
    return f"{PREFIX}{sha256[:2]}/{sha256}"


class BlobStore(Protocol):
    def put(self, sha256: str, data: bytes, content_type: str) -> str:
        """Store the bytes under their hash; return the key."""
        ...


class S3BlobStore:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        if not bucket:
            raise ValueError("an attachments bucket is required (ATTACHMENTS_BUCKET)")
        self.s3 = s3_client
        self.bucket = bucket

    def put(self, sha256: str, data: bytes, content_type: str) -> str:
        key = key_for(sha256)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type or "application/octet-stream",
                           ChecksumSHA256=_b64(sha256))
        return key


class MemoryBlobStore:
    """For tests and the benchmark."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, sha256: str, data: bytes, content_type: str) -> str:
        key = key_for(sha256)
        self.objects[key] = data
        return key


def _b64(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode()
