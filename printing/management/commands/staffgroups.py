from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError

# What each staff role may do; README.md ("Security") explains every permission.
CASHIER = [
    # The order board and the order admin: see, add, confirm, cancel, reprint.
    "orders.view_order",
    "orders.add_order",
    "orders.change_order",
    "orders.view_orderitem",
    "orders.add_orderitem",
    "orders.change_orderitem",
    # The menu's categories (the test-order form and the order admin choose one).
    "orders.view_category",
    # The print dashboard; test prints; retry and cancel jobs.
    "printing.view_printerconfig",
    "printing.view_printerconnection",
    "printing.view_printjob",
    "printing.add_printjob",
    "printing.change_printjob",
    # Alerts: see them and acknowledge them (the board's 知道了 and the admin's action).
    "printing.view_alert",
    "printing.change_alert",
]
MANAGER = [
    *CASHIER,
    "orders.delete_order",
    "orders.delete_orderitem",
    # The menu's categories and which station makes them; the words on the tickets.
    "orders.add_category",
    "orders.change_category",
    "orders.delete_category",
    "orders.view_shopprofile",
    "orders.change_shopprofile",
    # Printers: add, edit, enable and disable, issue tokens, delete.
    "printing.add_printerconfig",
    "printing.change_printerconfig",
    "printing.delete_printerconfig",
    "printing.delete_printjob",
    # Be a printer in the browser: it receives what that printer prints.
    "printing.use_test_client",
]
GROUPS = {"cashier": CASHIER, "manager": MANAGER}


class Command(BaseCommand):
    help = (
        "Create the staff groups 'cashier' (the order board, the print dashboard, test prints, "
        "retrying jobs) and 'manager' (also printers, tokens, the WebSocket test client, "
        "categories and ticket text), or reset them to these permissions. Add staff to a "
        "group in the admin."
    )

    def handle(self, *args, **options):
        for name, wanted in GROUPS.items():
            permissions = [_permission(label) for label in wanted]
            group, created = Group.objects.get_or_create(name=name)
            group.permissions.set(permissions)
            verb = "created" if created else "reset"
            self.stdout.write(f"{name}: {verb} with {len(permissions)} permissions")


def _permission(label: str) -> Permission:
    app_label, codename = label.split(".")
    found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    if found is None:
        raise CommandError(f"permission {label} does not exist: run manage.py migrate first")
    return found
