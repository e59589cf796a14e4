"""Signals the orders app sends besides Django's own."""

from django.dispatch import Signal

# Orders confirmed in bulk (one UPDATE, so no post_save per order); sent inside the
# confirming transaction with `order_ids`, a list of the orders confirmed.
orders_confirmed = Signal()
