from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.models import Order
from printing.services import print_jobs_enqueue_for_order


@receiver(post_save, sender=Order, dispatch_uid="printing.order_confirmed")
def order_confirmed(sender, instance: Order, raw: bool = False, **kwargs) -> None:
    if instance.status == Order.Status.CONFIRMED and not raw:
        print_jobs_enqueue_for_order(order=instance)
