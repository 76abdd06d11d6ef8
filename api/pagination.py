"""Every list is read a page at a time with an opaque cursor, newest rows never shifting a page."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_cursor_message = "The cursor is not one this list gave: start again without it."

    def decode_cursor(self, request):
        # The cursor is the caller's to change: a position that is not a row's id is no cursor of ours.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and not (
                cursor.position.isascii() and cursor.position.isdigit() and len(cursor.position) < 19):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def get_paginated_response_schema(self, schema):
        # OpenAPI 3.1 (JSON Schema) has no `nullable`: the last page's `next` is a null the type must allow.
        link = {"type": ["string", "null"], "format": "uri",
                "description": "The next (or previous) page's URL, or null at the end."}
        return {"type": "object", "required": ["next", "previous", "results"],
                "properties": {"next": link, "previous": link, "results": schema}}
