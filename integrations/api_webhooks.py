"""Webhook endpoints managed through the API (they are also in the admin)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from integrations.access import ApiError
from integrations.api_auth import KeyOrStaff
from integrations.models import Scope, WebhookEndpoint
from integrations.schemas import Error, WebhookIn, WebhookOut
from integrations.selectors import webhook_answer
from integrations.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_validate,
)

router = Router(tags=["webhooks"])

ERRORS = {code: Error for code in (400, 401, 403, 404, 413)}


@router.post(
    "/webhooks",
    auth=KeyOrStaff(Scope.WEBHOOKS_WRITE, "integrations.add_webhookendpoint"),
    response={201: WebhookOut, **ERRORS},
    summary="Add an endpoint told about the chosen events",
)
def webhook_post(request: HttpRequest, payload: WebhookIn):
    problems = webhook_endpoint_validate(url=payload.url, secret=payload.secret,
                                         events=payload.events)  # fmt: skip
    if problems:
        field, message = next(iter(problems.items()))
        raise ApiError(400, "invalid_field", f"{field}: {message}", fields=problems)
    endpoint = webhook_endpoint_create(
        url=payload.url,
        secret=payload.secret,
        events=payload.events,
        description=payload.description,
        actor=request.auth.actor,
    )
    return JsonResponse(webhook_answer(endpoint), status=201)


@router.get(
    "/webhooks",
    auth=KeyOrStaff(Scope.WEBHOOKS_WRITE, "integrations.view_webhookendpoint"),
    response={200: list[WebhookOut], **ERRORS},
    summary="The webhook endpoints (their secrets are not shown)",
)
def webhook_list(request: HttpRequest):
    return JsonResponse(
        {"webhooks": [webhook_answer(e) for e in WebhookEndpoint.objects.order_by("pk")]}
    )


@router.delete(
    "/webhooks/{endpoint_id}",
    auth=KeyOrStaff(Scope.WEBHOOKS_WRITE, "integrations.delete_webhookendpoint"),
    response={204: None, **ERRORS},
    summary="Remove an endpoint: nothing more is sent to it",
)
def webhook_delete(request: HttpRequest, endpoint_id: int):
    if not webhook_endpoint_delete(endpoint_id=endpoint_id):
        raise ApiError(404, "not_found", f"no webhook endpoint {endpoint_id}")
    return HttpResponse(status=204)
