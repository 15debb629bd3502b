"""Verification of the read models against the log (API.md, Reconciliation; decision 0024)."""

from __future__ import annotations

import anyio.to_thread
import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.models import NO_BODY, EmptyRequest
from api.openapi import answers
from api.read_resources import Verification, VerificationStarted
from api.reference import IdPath
from api.tenancy import FORBIDDEN, tenant
from domain.errors import NotFoundError
from infra.readside.verifications import Verifications
from infra.service import Service
from infra.workers.verifying import process_name

ADMIN = tenant("admin", FORBIDDEN)
SHOWN = ("verification_id", "status", "position", "read_models", "error")


class VerifyController(Controller):
    path = "/v1/admin/verify"
    tags = ["admin"]

    @post("", opt=ADMIN, operation_id="StartVerification", status_code=202, responses=answers(VerificationStarted, 202))
    async def start(
        self, service: NamedDependency[Service], data: JSONBody[EmptyRequest] = NO_BODY
    ) -> VerificationStarted:
        """Records the verification as pending: the process that feeds every read model runs it (this
        one, when it does); if none claims it within a few seconds, this process runs it itself."""
        found = Verifications(service.engine)
        verification_id = await anyio.to_thread.run_sync(found.open)
        if service.verifier is not None:
            service.verifier.wake()
        projections = list(service.read.projections.values())
        service.in_background(
            f"verify-{verification_id}",
            lambda: found.run_unless_claimed(
                verification_id, projections, service.store, process_name(), stopping=service.stopping.is_set
            ),
        )
        return VerificationStarted(verification_id)

    @get("/{verification_id:str}", opt=ADMIN, operation_id="GetVerification")
    async def status(self, service: NamedDependency[Service], verification_id: IdPath) -> Verification:
        found = await anyio.to_thread.run_sync(Verifications(service.engine).get, verification_id)
        if found is None:
            raise NotFoundError(f"No verification {verification_id}", verification_id=verification_id)
        return msgspec.convert({k: found[k] for k in SHOWN}, Verification)
