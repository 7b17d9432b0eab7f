"""The HTTP side of the dev sinks: webhooks, the SMS gateway, and faults on demand.

POST /hooks/{recipient_id}   a Standard Webhooks request: 200 if its signature is valid
                             for the recipient's secret, 401 if not; always recorded
POST /sms                    the SMS gateway contract: {"to", "text", "reference"} ->
                             200 {"message_id"}; the number is recorded masked
PUT  /control/faults/{target}  {"status": 500, "times": 3, "retry_after": 2}: answer
                             the next `times` requests to `hooks/<id>` or `sms` so
                             (times null: until DELETE), to try retries by hand or in tests
DELETE /control/faults/{target}
GET  /healthz, /readyz
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from minsheng.masking import mask_personal
from minsheng.platform.sinks import signatures
from minsheng.platform.sinks.files import SinkFiles, masked_number, number_digest

log = logging.getLogger("minsheng.sinks")


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int = Field(ge=200, le=599)
    times: int | None = Field(default=None, ge=1, description="None: until cleared.")
    retry_after: int | None = Field(default=None, ge=0)


class SmsRequest(BaseModel):
    to: str = Field(min_length=3, max_length=32)
    text: str = Field(min_length=1, max_length=2000)
    reference: str = Field(min_length=1, max_length=200)


@dataclass
class Faults:
    """Answers to give instead of the normal one, per target (`hooks/<id>` or `sms`)."""

    active: dict[str, Fault]

    def take(self, target: str) -> Fault | None:
        fault = self.active.get(target)
        if fault is not None and fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                del self.active[target]
        return fault


def _faulted(fault: Fault) -> Response:
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    return JSONResponse({"error": "fault injected"}, fault.status, headers)


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def build_app(
    files: SinkFiles,
    secrets: signatures.SecretsFile,
    *,
    sms_token: str | None = None,
    tolerance: float = signatures.TOLERANCE,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    faults = Faults({})

    async def hook(request: Request) -> Response:
        recipient = request.path_params["recipient_id"]
        raw = await request.body()
        h = request.headers
        msg_id, stamp = h.get("webhook-id"), h.get("webhook-timestamp")
        valid = signatures.verify(
            secrets.get(recipient),
            msg_id,
            stamp,
            h.get("webhook-signature"),
            raw,
            now=clock(),
            tolerance=tolerance,
        )
        fault = faults.take(f"hooks/{recipient}")
        status = fault.status if fault is not None else (200 if valid else 401)
        files.append(
            "webhooks.jsonl",
            {
                "recipient": recipient,
                "webhook-id": msg_id,
                "timestamp": stamp,
                "signature_valid": valid,
                "status": status,
                "received_at": clock(),
                "body": _body(raw),
            },
        )
        log.info(
            "webhook %s %s: signature %s, answered %d",
            recipient,
            msg_id,
            "valid" if valid else "INVALID",
            status,
        )
        if fault is not None:
            return _faulted(fault)
        if not valid:
            return JSONResponse({"error": "invalid webhook signature"}, 401)
        return JSONResponse({"received": msg_id})

    async def sms(request: Request) -> Response:
        if sms_token is not None and request.headers.get("authorization") != f"Bearer {sms_token}":
            return JSONResponse({"error": "send Authorization: Bearer <gateway token>"}, 401)
        try:
            message = SmsRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"error": "bad SMS request", "fields": _fields(exc)}, 400)
        fault = faults.take("sms")
        status = 200 if fault is None else fault.status
        files.append(
            "sms.jsonl",
            {
                "to": masked_number(message.to),
                "to_sha256": number_digest(message.to),
                "text": mask_personal(message.text),
                "reference": message.reference,
                "status": status,
                "received_at": clock(),
            },
        )
        log.info(
            "sms to %s (%s): answered %d", masked_number(message.to), message.reference, status
        )
        if fault is not None:
            return _faulted(fault)
        return JSONResponse({"message_id": f"sink-{message.reference}"})

    async def set_fault(request: Request) -> Response:
        try:
            fault = Fault.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"error": "bad fault", "fields": _fields(exc)}, 400)
        faults.active[request.path_params["target"]] = fault
        return JSONResponse(fault.model_dump())

    async def clear_fault(request: Request) -> Response:
        faults.active.pop(request.path_params["target"], None)
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "dev-sinks"})

    return Starlette(
        routes=[
            Route("/hooks/{recipient_id}", hook, methods=["POST"]),
            Route("/sms", sms, methods=["POST"]),
            Route("/control/faults/{target:path}", set_fault, methods=["PUT"]),
            Route("/control/faults/{target:path}", clear_fault, methods=["DELETE"]),
            Route("/healthz", health),
            Route("/readyz", health),
        ]
    )


def _fields(exc: ValidationError) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()]
