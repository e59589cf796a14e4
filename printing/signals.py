"""Adapters from model signals to the services."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders.models import Order
from orders.services import orders_print
from printing.models import PrinterConfig
from printing.services import printer_changed


@receiver(post_save, sender=Order, dispatch_uid="printing.order_confirmed")
def order_confirmed(sender, instance: Order, raw: bool = False, **kwargs) -> None:
    # A confirmation saved anywhere (a shell, a script) prints; saving again is a no-op.
    if instance.status == Order.Status.CONFIRMED and not raw:
        orders_print(order_ids=[instance.pk])


@receiver(post_delete, sender=PrinterConfig, dispatch_uid="printing.printer_deleted")
def printer_removed(sender, instance: PrinterConfig, **kwargs) -> None:
    printer_changed(printer_id=instance.pk)
