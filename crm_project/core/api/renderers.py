"""JSON rendering through orjson: several times faster than the standard library on lists."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import BaseRenderer

from crm_project.core.jsonencoding import dumps


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259).

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return dumps(data)
