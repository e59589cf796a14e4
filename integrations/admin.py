"""The integrations' admin pages: API keys (admin_keys), webhook endpoints and their
delivery log (admin_webhooks)."""

from integrations.admin_keys import ApiKeyAdmin
from integrations.admin_webhooks import WebhookDeliveryAdmin, WebhookEndpointAdmin

__all__ = ["ApiKeyAdmin", "WebhookDeliveryAdmin", "WebhookEndpointAdmin"]
