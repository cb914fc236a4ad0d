"""The pension service: career, simulations, and its request types' hooks.
The entrypoints only parse, call the plain modules (`career`, `simulator/`, `applications`,
`statement`), and return."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from nameko.extensions import DependencyProvider

from services.kit.config import BaseSettings, Settings, StartRefused, Url, database_url_field
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.directory import MemberCopyHandlers
from services.kit.errors import NotFound, ValidationFailed
from services.kit.health import HealthEntrypoints
from services.kit.offload import off_loop
from services.kit.rpc import rpc
from services.kit.storage import StorageProvider, StorageSettings
from services.pension import applications, career, simulator, statement
from services.pension.models import AssimilatedPeriod, CareerPeriod, CareerYear, Member


class PensionSettings(BaseSettings, StorageSettings):
    PENSION_DATABASE_URL = database_url_field("pension")
    PENSION_PUBLIC_BASE_URL = Url(("http", "https"), load_default="http://127.0.0.1:8000")


def copy_member(session: Any, identity: dict[str, Any]) -> None:
    member = session.get(Member, identity["member_id"]) or Member(
        member_id=identity["member_id"])
    member.first_name, member.last_name = identity["first_name"], identity["last_name"]
    member.birth_date = dt.date.fromisoformat(identity["birth_date"])
    member.sex, member.language = identity["sex"], identity.get("language") or "fr"
    member.subscriptions = identity.get("subscriptions") or []
    session.add(member)


def erase_member(session: Any, member_id: str) -> None:
    for model in (CareerPeriod, CareerYear, AssimilatedPeriod):
        session.query(model).filter(model.member_id == member_id).delete()
    session.query(Member).filter(Member.member_id == member_id).delete()


class PensionParameters(DependencyProvider):
    """Reads and checks every parameter file when the service starts: a malformed or
    inconsistent file stops the start with its reason (exit 78), instead of failing the
    first simulation that needs it."""

    def setup(self) -> None:
        try:
            self.parameters = simulator.Parameters.load(simulator.PARAMETERS_DIR)
        except simulator.ParameterError as exc:
            raise StartRefused(f"pension parameters: {exc}") from None

    def get_dependency(self, worker_ctx: Any) -> simulator.Parameters:
        return self.parameters


def _simulate(inputs: simulator.SimulationInputs) -> dict[str, Any]:
    return simulator.simulate(inputs).as_dict()


class PensionService(HealthEntrypoints, MemberCopyHandlers):
    name = "pension"
    settings_schema = PensionSettings

    context = RequestContext()
    db = Database("PENSION_DATABASE_URL")
    storage = StorageProvider("documents")
    settings = Settings()
    parameters = PensionParameters()

    member_model = Member
    copy_member = staticmethod(copy_member)
    erase_member = staticmethod(erase_member)

    # -- the fund's systems ---------------------------------------------------------------
    @rpc
    def upsert_career_periods(self, periods: list) -> dict:
        with self.db.transaction() as tx:
            return {"count": career.upsert_periods(tx, periods)}

    @rpc
    def upsert_career_years(self, years: list | None = None,
                            assimilated_periods: list | None = None) -> dict:
        with self.db.transaction() as tx:
            return career.upsert_years(tx, years, assimilated_periods)

    # -- the member (through the gateway) ------------------------------------------------------
    @rpc
    def get_career(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "career.read") as session:
            return career.career_view(session, member_id)

    @rpc
    def simulate_for_member(self, member_id: str, assumptions: dict) -> dict:
        """The member's recorded career plus their assumptions; nothing is stored."""
        with self.db.member_read(member_id, "career.simulated") as session:
            record = career.read_record(session, member_id)
        inputs, errors = simulator.validate_member_inputs(
            assumptions, date_of_birth=record.member.birth_date, sex=record.member.sex,
            career=record.simulator_periods(), recorded=record.recorded())
        if errors:
            raise ValidationFailed.of(errors)
        return off_loop(_simulate, inputs)

    @rpc
    def simulate_anonymous(self, body: dict) -> dict:
        """A hypothetical career (public route); nothing is stored."""
        inputs, errors = simulator.validate_inputs(body)
        if errors:
            raise ValidationFailed.of(errors)
        return off_loop(_simulate, inputs)

    # -- the request registry's hooks (docs/requests.md) -----------------------------------------
    @rpc
    def validate_params(self, member_id: str, params: dict,
                        request_type: str | None = None) -> list:
        return applications.validate_params(request_type or "", params)

    @rpc
    def check_submission(self, member_id: str, params: dict, attachments: list,
                         request_type: str | None = None) -> list:
        with self.db.read() as session:
            try:
                return applications.check_submission(session, member_id, request_type or "",
                                                     params, attachments)
            except NotFound:
                return ["a recorded career (you are not known to the pension service yet)"]

    @rpc
    def params_schema(self, request_type: str) -> dict:
        return applications.params_schema(request_type)

    @rpc
    def produce_result(self, request: dict) -> dict:
        with self.db.read() as session:
            pdf, code = statement.statement_document(session, request,
                                                     self.settings.PENSION_PUBLIC_BASE_URL)
        key = f"results/{request['id']}"
        self.storage.put("documents", key, pdf, "application/pdf")
        return {"storage_key": key, "content_type": "application/pdf",
                "sha256": hashlib.sha256(pdf).hexdigest(), "verification_code": code}

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "member.exported") as session:
            return career.export(session, member_id)
