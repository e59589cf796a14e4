"""The integrations' admin pages: API keys (admin_keys)."""

from integrations.admin_keys import ApiKeyAdmin

__all__ = ["ApiKeyAdmin"]
