"""The security headers Django has no setting for: Permissions-Policy, and no-store on what a
signed-in person sees."""

from django.utils.cache import patch_cache_control

# The portal needs no device or sensor: none of its pages, nor anything they might embed, may ask.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "fullscreen", "geolocation",
        "gyroscope", "magnetometer", "microphone", "midi", "payment", "picture-in-picture", "publickey-credentials-get",
        "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class NoStoreWhenSignedInMiddleware:
    """Whatever a signed-in person sees or downloads names people and requests: no cache may keep a
    copy, not even the browser's (a shared computer, the back button after sign-out). Directives a
    view set stay beside no-store; an anonymous visitor's public pages keep their caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True)
        return response
