"""Webhook endpoints (events as checkboxes, the secret kept out of the list, re-enabling)
and the read-only delivery log with its redeliver action."""

import json
import secrets

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.models import Event, WebhookDelivery, WebhookEndpoint
from integrations.webhooks.store import webhook_deliveries_redeliver, webhook_endpoint_enable
from shop.web import staff_actor


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The endpoint is told about these events only."),
    )
    secret = forms.CharField(
        label=_("secret"),
        # As the API asks: long enough that it cannot be guessed.
        min_length=16,
        max_length=200,
        # A new endpoint gets a strong secret to copy into the receiver; it may be replaced.
        initial=lambda: secrets.token_urlsafe(32),
        help_text=_(
            "Each request is signed with it: X-Webhook-Signature is sha256= and the "
            "HMAC-SHA256 of the X-Webhook-Timestamp, a dot and the body."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "secret", "description", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = [
        "url",
        "description",
        "event_list",
        "is_active",
        "failing_since",
        "disabled_at",
        "created_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "created_by",
    ]
    fieldsets = [
        (None, {"fields": ["url", "events", "secret", "description", "is_active"]}),
        (
            _("State"),
            {
                "fields": [
                    "failing_since",
                    "disabled_at",
                    "disabled_reason",
                    "created_at",
                    "created_by",
                ]
            },
        ),
    ]
    actions = ["enable"]

    @admin.display(description=_("events"))
    def event_list(self, obj):
        labels = dict(Event.choices)
        return ", ".join(str(labels.get(event, event)) for event in obj.events)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = staff_actor(request.user)[:150]
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and obj.is_active:
            # Ticked active again by hand: as the re-enable action, a clean record.
            webhook_endpoint_enable(endpoint_id=obj.pk)

    @admin.action(
        description=_("Re-enable selected endpoints (clears their failures)"),
        permissions=["change"],
    )
    def enable(self, request, queryset):
        count = sum(
            webhook_endpoint_enable(endpoint_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            ngettext("%d webhook endpoint enabled.", "%d webhook endpoints enabled.", count)
            % count,
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with a redeliver action."""

    list_display = [
        "event",
        "endpoint",
        "subject",
        "status",
        "attempts",
        "response_status",
        "error_excerpt",
        "created_at",
        "last_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event", "endpoint"]
    search_fields = ["subject", "=event_id"]
    list_select_related = ["endpoint"]
    fields = [
        "event_id",
        "event",
        "endpoint",
        "subject",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "payload_pretty",
    ]
    readonly_fields = fields
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        # Deliveries are written with the change they report, never by hand.
        return False

    @admin.display(description=_("last error"))
    def error_excerpt(self, obj):
        return obj.last_error if len(obj.last_error) <= 80 else f"{obj.last_error[:79]}…"

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj):
        text = json.dumps(obj.payload, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html('<pre class="webhook-payload">{}</pre>', text)

    @admin.action(
        description=_("Redeliver selected deliveries (same event id)"), permissions=["change"]
    )
    def redeliver(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = webhook_deliveries_redeliver(delivery_ids=ids)
        self.message_user(
            request,
            ngettext("%d delivery will be sent again.", "%d deliveries will be sent again.", count)
            % count,
            messages.SUCCESS,
        )
        inactive = queryset.filter(endpoint__is_active=False).values_list(
            "endpoint__url", flat=True
        )
        for url in sorted(set(inactive)):
            self.message_user(
                request,
                _("%(url)s is disabled: its deliveries wait until it is re-enabled.")
                % {"url": url},
                messages.WARNING,
            )
