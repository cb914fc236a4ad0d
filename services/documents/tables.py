"""Every table of documents in one metadata (Alembic's, and the tests')."""

from services.documents.base import Base
from services.documents.files import models as _files  # noqa: F401  (registers tables)
from services.documents.members import Member  # noqa: F401
from services.documents.requests import models as _requests  # noqa: F401

metadata = Base.metadata
