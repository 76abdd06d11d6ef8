"""Limits on uploads, applied while the request body arrives rather than after it has been read.

Django reads a body the first time something asks for `request.POST` (the CSRF check does, for
anyone), and spools every file to disk before a view sees it: without these, a 200 MB post is
written out in full before the size check of the documents refuses it.
"""

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import JsonResponse
from django.shortcuts import render


class RequestSizeLimitMiddleware:
    """Refuses a body larger than REQUEST_MAX_BYTES by its declared length, before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > settings.REQUEST_MAX_BYTES:
            if request.path.startswith("/api/"):
                # The API answers in problem details (RFC 9457), as its own errors do.
                return JsonResponse({
                    "type": "https://portal.invalid/problems/413", "title": "Too large", "status": 413,
                    "detail": f"The body is larger than the {settings.REQUEST_MAX_BYTES} bytes a call may send: "
                              "send fewer rows a call.", "instance": request.get_full_path()},
                    status=413, content_type="application/problem+json")
            return render(request, "portal/413.html", {
                "request_limit": settings.REQUEST_MAX_BYTES, "document_limit": settings.SUPPORTING_DOCUMENT_MAX_BYTES,
            }, status=413)
        # Under WSGI Django reads nothing of a body sent without its length (chunked): it would
        # arrive empty, of whatever size it is. Refused before anyone reads it.
        if not declared and "HTTP_TRANSFER_ENCODING" in request.META:
            return render(request, "portal/411.html", status=411)
        return self.get_response(request)


class TooLargeUpload(UploadedFile):
    """A file that passed SUPPORTING_DOCUMENT_MAX_BYTES: its name and size, none of its content.
    It reaches the form like any file, so the upload check refuses it with its usual message."""

    def __init__(self, *, name: str, content_type: str, size: int):
        super().__init__(BytesIO(), name=name, content_type=content_type, size=size)


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    """Django's handler for files kept on disk, which stops keeping a file (and deletes what it
    wrote) once the file passes SUPPORTING_DOCUMENT_MAX_BYTES. The rest of that part is read and
    dropped: the body as a whole is bounded by REQUEST_MAX_BYTES."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if self.too_large:
            return None
        if start + len(raw_data) > settings.SUPPORTING_DOCUMENT_MAX_BYTES:
            self.too_large = True
            self.file.close()  # a temporary file: closing it deletes it
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        if self.too_large:
            return TooLargeUpload(name=self.file_name, content_type=self.content_type, size=file_size)
        return super().file_complete(file_size)
