"""The documents service: members' files and forms (`files/`, their RPC methods in
`files.entrypoints`), and the registry of online requests (`requests/`), whose RPC
methods are here. It also holds two timers: the automatic-request worker
(`requests.worker`) and the quarantine sweeper (in `files.entrypoints`). Each method
parses, calls those modules, and returns."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError, fields, validates
from nameko.timer import timer

from services.documents import members
from services.documents.files import uploads
from services.documents.files.entrypoints import FileEntrypoints, FileSettings
from services.documents.members import Member
from services.documents.requests import catalogue, registry, types, worker
from services.documents.requests.hooks import BuiltinHooks, HookSet, ResultSources
from services.documents.requests.models import Request
from services.kit.config import BaseSettings, Settings, Url, database_url_field
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.directory import MemberCopyHandlers
from services.kit.errors import NotFound
from services.kit.health import HealthEntrypoints
from services.kit.pdf import normalize_verification_code
from services.kit.roles import AGENT, require_role
from services.kit.rpc import AnyServiceRpc, ServiceRpc, rpc
from services.kit.storage import StorageProvider, StorageSettings

RESULTS = "documents"  # the bucket of requests' results


class DocumentsSettings(BaseSettings, StorageSettings, FileSettings):
    DOCUMENTS_DATABASE_URL = database_url_field("documents")
    DOCUMENTS_PUBLIC_BASE_URL = Url(("http", "https"), load_default="http://127.0.0.1:8000")
    DOCUMENTS_WORKER_BATCH = fields.Integer(load_default=5)
    # request types governed by another service's rules, plugged in through its hooks
    DOCUMENTS_EXTERNAL_TYPES = fields.String(load_default="")

    @validates("DOCUMENTS_EXTERNAL_TYPES")
    def _external(self, value: str, **_: Any) -> None:
        try:
            types.external_types(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class DocumentsService(HealthEntrypoints, MemberCopyHandlers, FileEntrypoints):
    name = "documents"
    settings_schema = DocumentsSettings

    context = RequestContext()
    db = Database("DOCUMENTS_DATABASE_URL")
    storage = StorageProvider("quarantine", "documents", "forms")
    settings = Settings()
    auth = ServiceRpc("auth", timeout=20)
    benefits = ServiceRpc("benefits", timeout=20)
    notifications = ServiceRpc("notifications", timeout=20)
    pension = ServiceRpc("pension", timeout=20)
    owners = AnyServiceRpc(timeout=20)  # the owners of configured request types

    member_model = Member
    copy_member = staticmethod(members.copy_member)
    request_link = registry.DocumentsLink()  # uploads naming a request
    owner_schemas = catalogue.OwnerSchemas()  # shared by this process's workers

    def erase_member(self, session: Any, member_id: str) -> None:
        """auth.member_deleted: requests, their history and results, files (rows and
        objects) and the copy."""
        registry.erase_member_requests(session, self.storage, RESULTS, member_id)
        uploads.erase_member_files(session, self.storage, member_id)
        members.erase_copy(session, member_id)

    @property
    def known_types(self) -> dict[str, types.RequestType]:
        """The registry's own request types and the configured ones."""
        return types.known_types(self.settings.DOCUMENTS_EXTERNAL_TYPES)

    def hooks(self, sources: ResultSources | None = None) -> HookSet:
        return HookSet(BuiltinHooks(sources), self.owners.service)

    # -- the member's requests -----------------------------------------------------------
    @rpc
    def create_request(self, member_id: str, type: str, params: dict | None = None) -> dict:
        with self.db.transaction() as tx:
            return registry.view(registry.create(tx, member_id, type, params, self.known_types,
                                                 self.hooks()))

    @rpc
    def list_requests(self, member_id: str, status: str | None = None,
                      cursor: str | None = None, limit: int = 20) -> dict:
        with self.db.member_read(member_id, "requests.read") as session:
            return registry.listing(session, member_id=member_id, status=status,
                                    cursor=cursor, limit=limit)

    @rpc
    def get_request(self, member_id: str, request_id: str) -> dict:
        with self.db.member_read(member_id, "request.read") as session:
            return registry.with_history(session,
                                         registry.get_own(session, member_id, request_id))

    @rpc
    def update_request(self, member_id: str, request_id: str, params: dict) -> dict:
        with self.db.transaction() as tx:
            return registry.view(registry.update_draft(tx, member_id, request_id, params,
                                                       self.known_types, self.hooks()))

    @rpc
    def submit_request(self, member_id: str, request_id: str) -> dict:
        with self.db.transaction() as tx:
            return registry.view(registry.submit(tx, member_id, request_id, self.known_types,
                                                 self.hooks()))

    @rpc
    def reply_request(self, member_id: str, request_id: str, message: str,
                      document_ids: list | None = None) -> dict:
        with self.db.transaction() as tx:
            # as sent: registry.reply answers a non-list with owned_documents' 422
            return registry.view(registry.reply(tx, member_id, request_id, message,
                                                document_ids))

    @rpc
    def cancel_request(self, member_id: str, request_id: str) -> dict:
        with self.db.transaction() as tx:
            return registry.view(registry.cancel(tx, member_id, request_id))

    @rpc
    def authorize_request_document(self, member_id: str, request_id: str) -> dict:
        with self.db.member_read(member_id, "request.document") as session:
            req = registry.get_own(session, member_id, request_id)
        return registry.result_grant(req, self.storage, RESULTS)

    # -- the catalogue of request types --------------------------------------------------
    @rpc
    def request_types(self) -> list:
        return catalogue.request_types(self.known_types, self.hooks(), self.owner_schemas)

    # -- agents and internal systems --------------------------------------------------------
    @rpc
    def agent_queue(self, status: str | None = None, cursor: str | None = None,
                    limit: int = 20) -> dict:
        require_role(self.context, AGENT)
        with self.db.transaction() as tx:
            page = registry.listing(tx.session, member_id=None, status=status, cursor=cursor,
                                    limit=limit, oldest_first=True)
            tx.audit("requests.queue_read", member_id=None, details={"count": len(
                page["items"])})
            # every member whose requests the page shows, audited as read
            for member_id in dict.fromkeys(item["member_id"] for item in page["items"]):
                tx.audit("requests.read_in_queue", member_id=member_id,
                         details={"request_ids": [i["id"] for i in page["items"]
                                                  if i["member_id"] == member_id]})
            return page

    @rpc
    def transition_request(self, request_id: str, to: str, note: str | None = None) -> dict:
        require_role(self.context, AGENT)
        with self.db.transaction() as tx:
            return registry.view(registry.transition(tx, request_id, to, note))

    # -- certificates ---------------------------------------------------------------------
    @rpc
    def verify_certificate(self, code: str) -> dict:
        normal = normalize_verification_code(code) if isinstance(code, str) else None
        with self.db.read() as session:
            req = session.scalar(sa.select(Request).where(
                Request.verification_code == normal)) if normal else None
            member = session.get(Member, req.member_id) if req else None
        if req is None or req.status != "completed":
            raise NotFound("No certificate carries this code.", code="certificate_not_found")
        initials = (f"{member.first_name[:1]}. {member.last_name[:1]}." if member else "")
        return {"genuine": True, "type": req.type,
                "issued_on": req.completed_at.date().isoformat(), "holder_initials": initials}

    # -- the automatic-request worker --------------------------------------------------------
    @timer(interval=1.0)
    def process_automatic(self) -> None:
        """Requests that need no human (requests.worker), whichever instance runs."""
        worker.process_batch(self.db, self.known_types, self.hooks(self._result_sources()),
                             self.settings.DOCUMENTS_WORKER_BATCH)

    def _result_sources(self) -> ResultSources:
        peers = {"auth": self.auth, "notifications": self.notifications,
                 "benefits": self.benefits, "pension": self.pension}

        def export(service: str, member_id: str) -> dict[str, Any]:
            if service == self.name:
                return self.export_member_data(member_id)
            return peers[service].export_member_data(member_id)

        def member(member_id: str) -> Member | None:
            with self.db.read() as session:
                return session.get(Member, member_id)

        return ResultSources(member=member, benefits=self.benefits, export=export,
                             storage=self.storage,
                             public_base_url=self.settings.DOCUMENTS_PUBLIC_BASE_URL)

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "member.exported") as session:
            return {"service": "documents",
                    "requests": registry.export_member_requests(session, member_id),
                    **uploads.export_member_files(session, member_id)}
