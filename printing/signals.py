from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders.models import Order
from printing.models import PrinterConfig
from printing.services import print_jobs_enqueue_for_order, printer_deleted


@receiver(post_save, sender=Order, dispatch_uid="printing.order_confirmed")
def order_confirmed(sender, instance: Order, raw: bool = False, **kwargs) -> None:
    if instance.status == Order.Status.CONFIRMED and not raw:
        print_jobs_enqueue_for_order(order=instance)


@receiver(post_delete, sender=PrinterConfig, dispatch_uid="printing.printer_deleted")
def printer_removed(sender, instance: PrinterConfig, **kwargs) -> None:
    printer_deleted(printer_id=instance.pk)
