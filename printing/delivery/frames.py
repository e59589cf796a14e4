"""A job as the frame a printer socket receives: the protocol's `new_order`, or a
`print_command` for test pages. Built once per job and attempt, sent to every socket."""

from printing import protocol
from printing.models import PrinterConfig, PrintJob


def job_frame(job: PrintJob, *, attempt: int) -> str:
    """The protocol message for one job, serialised once for every socket that gets it."""
    printer = job.printer
    # The seed's two keys first; then how an ESC/POS agent should encode it.
    printer_config = {
        "paper_width": printer.paper_width if printer else 80,
        "printer_type": printer.printer_type if printer else "thermal",
    }
    target = None
    if printer:
        target = {"id": printer.pk, "name": printer.name, "ip_address": printer.ip_address}
        printer_config |= printer.escpos_settings().as_mapping()
        if job.job_type == PrintJob.JobType.ALARM:
            # An alarm slip is heard: the buzzer whatever the printer's setting.
            printer_config["buzzer"] = True
        if printer.role == PrinterConfig.Role.LABEL:
            printer_config["label"] = printer.label_spec().as_mapping()
    # An earlier attempt started printing and never said how it ended (its socket was lost,
    # or it printed past PRINT_PRINTING_TIMEOUT): the receipt may be on paper already.
    possible_duplicate = job.started_at is not None
    if job.job_type == PrintJob.JobType.TEST:
        message = protocol.print_command(
            command="test_print",
            data={
                "job_id": job.pk,
                "content": job.print_content,
                "copies": job.copies,
                "attempt": attempt,
                "printer_config": printer_config,
                "target_printer": target,
                "possible_duplicate": possible_duplicate,
            },
        )
        return protocol.dumps(message)
    label = job.job_type == PrintJob.JobType.LABEL
    order = job.order
    order_info = None
    if order is not None:
        order_info = {
            "id": order.pk,
            "status": order.status,
            "total_amount": float(order.total_amount),
            "customer_phone": order.customer_phone,
            "created_at": protocol.now_iso(order.created_at),
            "pickup_number": order.pickup_number,
            "order_type": order.order_type,
            "delivery_platform": order.delivery_platform,
            "platform_order_no": order.platform_order_no,
        }
    message = protocol.new_order(
        job_id=job.pk,
        order_id=job.order_id,
        job_type=job.job_type,
        content=job.print_content,
        copies=job.copies,
        priority=job.priority,
        attempt=attempt,
        order_info=order_info,
        printer_config=printer_config,
        printer=target,
        possible_duplicate=possible_duplicate,
        layout=None if label else job.layout,
        labels=job.layout if label else None,
        reprint=job.is_reprint,
    )
    return protocol.dumps(message)
