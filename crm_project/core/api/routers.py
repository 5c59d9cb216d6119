"""A router whose paths work without a trailing slash (``/crm/leads``) and with one, both answered directly."""

from rest_framework.routers import SimpleRouter


class CRMRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        # "/?" rather than "/": clients POST, so a redirect to the slashed path is no answer.
        # (SimpleRouter's own argument only knows "/" or nothing.)
        self.trailing_slash = "/?"
