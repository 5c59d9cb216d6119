"""A router whose paths work exactly as the seed writes them, and with a trailing slash too."""

from rest_framework.routers import SimpleRouter


class CRMRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        # "/?" rather than "/": clients POST, so a redirect to the slashed path is no answer.
        # (SimpleRouter's own argument only knows "/" or nothing.)
        self.trailing_slash = "/?"
