import re
import uuid

from .context_vars import request_id_var, request_var, tenant_var

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Gives each request an id (kept from X-Request-ID when well-formed) for logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # Set, not reset afterwards: Django logs a request's outcome after the middleware
        # chain returns, and each request (thread) sets both again on arrival.
        request_id_var.set(request.request_id)
        tenant_var.set("-")
        request_var.set(request)
        try:
            response = self.get_response(request)
        finally:
            request_var.set(None)  # work done after the response is nobody's
        response["X-Request-ID"] = request.request_id
        return response
