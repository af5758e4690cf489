"""whatIf: read the live resource and say what a PUT would change, starting nothing.

The read goes through shared.arm like the orchestrator's, so it has the same trust rules: the
token only goes to ARM_ENDPOINT.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from shared import lro
from shared.arm import call_arm
from shared.arm_reply import ArmReply, reply_error
from shared.convergence import Verdict, read_verdict
from shared.errors import AppCode, AppError, ArmReadError
from shared.models import ProvisioningRequest
from shared.operation import ArmCall, operation_id_for
from shared.settings import Settings


async def what_if(request: ProvisioningRequest, settings: Settings) -> Verdict:
    """The verdict for `request` against the live resource; raises ArmReadError."""
    # lro builds (and checks) the resource URL the orchestrator would use.
    state = lro.start(
        arm_endpoint=settings.arm_endpoint,
        resource_path=request.target.resource_path,
        now=datetime.now(UTC),
        time_limit=timedelta(minutes=1),
        policy=lro.PollingPolicy(),
    )
    call = ArmCall(
        operation_id=operation_id_for(request.target),
        correlation_id=str(uuid.uuid4()),
        request=lro.resource_request(state),
    )
    raw = await asyncio.to_thread(call_arm, call.model_dump(mode="json", by_alias=True))
    reply = ArmReply.model_validate(raw)
    if reply.status not in (200, 404):
        raise ArmReadError(
            reply_error(reply)
            or AppError(
                code=AppCode.ARM_READ_ERROR,
                message=f"ARM answered the read with {reply.status or reply.transport_error}.",
                status=reply.status,
            )
        )
    return read_verdict(request.definition.to_arm_body(), reply)
