"""API keys in the admin: made with a name and scopes, the key shown once on the page that
follows (never stored, never put in a message cookie), revoked with an action."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.models import ApiKey, Scope
from integrations.services import api_key_issue, api_key_revoke
from shop.web import staff_actor


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the key may do; nothing else."),
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "scope_list", "created_at", "last_used_at", "active"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description=_("scopes"))
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    @admin.display(description=_("active"), boolean=True)
    def active(self, key: ApiKey) -> bool:
        return key.is_active

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.created_by = staff_actor(request.user)
        obj.shown_once = api_key_issue(key=obj)

    def response_add(self, request, obj: ApiKey, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "title": _("API key created"),
            "key": obj,
            "raw_key": obj.shown_once,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/integrations/apikey/created.html", context)
        # The key is in this page only: no browser or proxy may keep a copy.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset) -> None:
        revoked = sum(api_key_revoke(key_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
