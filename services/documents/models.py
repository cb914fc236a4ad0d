"""Every table of documents, on its one declarative base (`Base.metadata` is Alembic's):
the copy of the members, the files and forms (`files.models`), the request registry
(`requests.models`)."""

from services.documents.base import Base
from services.documents.files.models import Document, Form
from services.documents.members import Member
from services.documents.requests.models import HistoryEntry, Request

__all__ = ["Base", "Document", "Form", "HistoryEntry", "Member", "Request"]
