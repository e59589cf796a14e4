from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders.models import Order
from orders.signals import orders_confirmed
from printing.models import PrinterConfig
from printing.services import (
    print_jobs_enqueue_for_order,
    print_jobs_enqueue_for_orders,
    printer_deleted,
)


@receiver(post_save, sender=Order, dispatch_uid="printing.order_confirmed")
def order_confirmed(sender, instance: Order, raw: bool = False, **kwargs) -> None:
    if instance.status == Order.Status.CONFIRMED and not raw:
        print_jobs_enqueue_for_order(order=instance)


@receiver(orders_confirmed, dispatch_uid="printing.orders_confirmed")
def orders_confirmed_in_bulk(sender, order_ids: list[int], **kwargs) -> None:
    print_jobs_enqueue_for_orders(order_ids=order_ids)


@receiver(post_delete, sender=PrinterConfig, dispatch_uid="printing.printer_deleted")
def printer_removed(sender, instance: PrinterConfig, **kwargs) -> None:
    printer_deleted(printer_id=instance.pk)
