"""How the schema describes who may call: a bearer token, or the portal's session cookie for reads."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A token made by ITSA on the API tokens page "
                "(sap_…), with the scopes the call needs: read, report_use or provision."}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionReadAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "A person's own signed-in session, for read calls only."}
