"""The documents service: members' files, forms, and the registry of online requests.
Entrypoints only; the rules live in `files`, `registry`, `lifecycle`, `results`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError, fields, validates
from nameko.timer import timer

from services.documents import registry, results
from services.documents.file_entrypoints import FileEntrypoints, FileSettings
from services.documents.models import Member, Request, RequestEvent
from services.kit.config import BaseSettings, Settings, Url, database_url_field
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.directory import MemberCopyHandlers
from services.kit.errors import NotFound, ServiceError
from services.kit.health import HealthEntrypoints
from services.kit.logging import get_logger
from services.kit.pdf import normalize_verification_code
from services.kit.rpc import AnyServiceRpc, ServiceRpc, rpc
from services.kit.storage import StorageProvider, StorageSettings

log = get_logger(__name__)
RESULTS = "documents"


class DocumentsSettings(BaseSettings, StorageSettings, FileSettings):
    DOCUMENTS_DATABASE_URL = database_url_field("documents")
    DOCUMENTS_PUBLIC_BASE_URL = Url(("http", "https"), load_default="http://127.0.0.1:8000")
    DOCUMENTS_WORKER_BATCH = fields.Integer(load_default=5)
    # request types governed by another service's rules, plugged in through its hooks
    DOCUMENTS_EXTERNAL_TYPES = fields.String(load_default="")

    @validates("DOCUMENTS_EXTERNAL_TYPES")
    def _external(self, value: str, **_: Any) -> None:
        try:
            registry.external_types(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def copy_member(session: Any, identity: dict[str, Any]) -> None:
    member = session.get(Member, identity["member_id"]) or Member(
        member_id=identity["member_id"])
    member.first_name, member.last_name = identity["first_name"], identity["last_name"]
    member.birth_date = dt.date.fromisoformat(identity["birth_date"])
    member.language = identity.get("language") or "fr"
    member.subscriptions = identity.get("subscriptions") or []
    session.add(member)


def erase_requests(session: Any, member_id: str) -> None:
    ids = sa.select(Request.id).where(Request.member_id == member_id)
    session.execute(sa.delete(RequestEvent).where(RequestEvent.request_id.in_(ids)))
    session.execute(sa.delete(Request).where(Request.member_id == member_id))
    session.execute(sa.delete(Member).where(Member.member_id == member_id))


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
    owners = AnyServiceRpc(timeout=20)

    member_model = Member
    copy_member = staticmethod(copy_member)

    def erase_member(self, session: Any, member_id: str) -> None:
        """auth.member_deleted: requests and their results, files (rows and objects)
        and the copy."""
        for key in session.scalars(sa.select(Request.result_key).where(
                Request.member_id == member_id, Request.result_key.is_not(None))):
            self.storage.delete(RESULTS, key)
        self.erase_files(session, member_id)
        erase_requests(session, member_id)

    @property
    def files_settings(self) -> Any:
        return self.settings

    @property
    def kinds(self) -> dict[str, registry.RequestType]:
        return {**registry.TYPES,
                **registry.external_types(self.settings.DOCUMENTS_EXTERNAL_TYPES)}

    def remote(self, service: str, hook: str, *args: Any, **kwargs: Any) -> Any:
        """A hook of the service that owns a request type (docs/requests.md)."""
        return getattr(self.owners.service(service), hook)(*args, **kwargs)

    # -- the member's requests -----------------------------------------------------------
    @rpc
    def create_request(self, member_id: str, type: str, params: dict | None = None) -> dict:
        with self.db.transaction() as tx:
            req = registry.create(tx, member_id, type, params, self.kinds, self.remote)
            return registry.view(req)

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
                                                       self.kinds, self.remote))

    @rpc
    def submit_request(self, member_id: str, request_id: str) -> dict:
        with self.db.transaction() as tx:
            return registry.view(registry.submit(tx, member_id, request_id, self.kinds,
                                                 self.remote))

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
        if not req.result_key:
            raise NotFound("This request has no document (yet).", code="document_not_ready")
        head = self.storage.head(RESULTS, req.result_key)
        if head is None:
            raise ServiceError("The document is not available right now.",
                               code="document_unavailable", status=404)
        extension = "json" if req.result_content_type == "application/json" else "pdf"
        return {"bucket": RESULTS, "key": req.result_key,
                "content_type": req.result_content_type, "size": head["size"],
                "filename": f"{req.type}-{req.created_at:%Y%m%d}.{extension}"}

    # -- agents and internal systems --------------------------------------------------------
    @rpc
    def agent_queue(self, status: str | None = None, cursor: str | None = None,
                    limit: int = 20) -> dict:
        with self.db.transaction() as tx:
            page = registry.listing(tx.session, member_id=None, status=status, cursor=cursor,
                                    limit=limit, oldest_first=True)
            tx.audit("requests.queue_read", member_id=None, details={"count": len(
                page["items"])})
            return page

    @rpc
    def transition_request(self, request_id: str, to: str, note: str | None = None) -> dict:
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

    @timer(interval=1.0)
    def process_automatic(self) -> None:
        """Requests that need no human: picked one at a time, whichever instance runs."""
        for _ in range(self.settings.DOCUMENTS_WORKER_BATCH):
            if not self._process_one():
                return

    def _process_one(self) -> bool:
        automatic = [t.name for t in self.kinds.values() if t.automatic]
        last = sa.select(RequestEvent.from_status).where(
            RequestEvent.request_id == Request.id).order_by(
            RequestEvent.id.desc()).limit(1).scalar_subquery()
        with self.db.transaction() as tx:
            # new ones, and those the member answered after we asked for information
            req = tx.session.scalar(sa.select(Request).where(
                Request.type.in_(automatic),
                sa.or_(Request.status == "submitted",
                       sa.and_(Request.status == "in_progress",
                               last == "needs_information")))
                .order_by(Request.updated_at).limit(1).with_for_update(skip_locked=True))
            if req is None:
                return False
            if req.status == "submitted":
                registry.record(tx, req, "in_progress")
            else:  # mark it taken, so that another worker does not pick it too
                req.updated_at = dt.datetime.now(dt.UTC)
                tx.session.add(RequestEvent(request_id=req.id, actor_type="system",
                                            from_status="in_progress",
                                            to_status="in_progress",
                                            note="Produced again after your reply.",
                                            at=req.updated_at))
            request_id, member_id = req.id, req.member_id
        try:
            self._complete(request_id, member_id)
        except Exception as exc:  # never left in_progress: an agent takes over
            log.warning("request_production_failed", request_id=request_id,
                        error=type(exc).__name__)
            with self.db.transaction() as tx:
                req = tx.session.get(Request, request_id, with_for_update=True)
                registry.record(tx, req, "needs_information",
                                note="We could not produce this document automatically; "
                                     "an agent will follow up.")
        return True

    def _complete(self, request_id: str, member_id: str) -> None:
        data, content_type, made = self._produce(request_id, member_id)
        if isinstance(made, dict):  # produced by the owning service
            key, digest, code = made["storage_key"], made["sha256"], made.get(
                "verification_code")
        else:
            key, digest, code = f"results/{request_id}", results.sha256(data), made
            self.storage.put(RESULTS, key, data, content_type)
        with self.db.transaction() as tx:
            req = tx.session.get(Request, request_id, with_for_update=True)
            req.result_key, req.result_content_type = key, content_type
            req.result_sha256, req.verification_code = digest, code
            registry.record(tx, req, "completed")

    def _produce(self, request_id: str, member_id: str) -> tuple[bytes, str, str | None]:
        with self.db.read() as session:
            req = session.get(Request, request_id)
            member = session.get(Member, member_id)
        kind = self.kinds.get(req.type)
        if kind is not None and kind.service:  # the owner writes it to storage itself
            made = self.remote(kind.service, "produce_result",
                               registry.view(req) | {"member_id": req.member_id})
            return None, made["content_type"], made
        if req.type == "data_access":
            def fetch(service: str) -> dict[str, Any]:
                if service == "documents":
                    return self.export_member_data(member_id)
                return getattr(self, service).export_member_data(member_id)
            return results.data_access(member_id, fetch), "application/json", None
        if member is None:
            raise NotFound("The member is not known here yet.", code="member_not_found")
        data: dict[str, Any] = {}
        if req.type == "certificate_of_rights":
            data["card"] = self.benefits.get_card(member_id)
        elif req.type in ("payment_certificate", "annual_tax_statement"):
            if req.type == "annual_tax_statement":
                start, end = f"{req.params['year']}-01-01", f"{req.params['year']}-12-31"
            else:
                start, end = req.params["from"], req.params["to"]
            data.update({"from": start, "to": end, "payments":
                         self.benefits.payments_for_statement(member_id,
                                                              {"from": start, "to": end})})
        pdf, code = results.certificate(req, member, data,
                                        self.settings.DOCUMENTS_PUBLIC_BASE_URL)
        return pdf, "application/pdf", code

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "member.exported") as session:
            requests = session.scalars(sa.select(Request).where(
                Request.member_id == member_id).order_by(Request.created_at)).all()
            return {"service": "documents",
                    "requests": [registry.with_history(session, r) for r in requests],
                    **self.export_files(session, member_id)}
