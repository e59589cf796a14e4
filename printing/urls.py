from django.urls import path

from printing import views

app_name = "printing"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/print/", views.dashboard, name="dashboard"),
    path("admin/print/data", views.dashboard_data, name="dashboard_data"),
    path("admin/print/test-print", views.test_print, name="test_print"),
    path("admin/print/retry-failed", views.retry_failed, name="retry_failed"),
    path("admin/print/test-client/", views.test_client, name="test_client"),
    path("admin/print/ticket", views.ticket, name="ticket"),
    path("admin/print/jobs/<int:job_id>", views.job_detail, name="job_detail"),
    path("admin/print/jobs/<int:job_id>/preview.png", views.job_preview, name="job_preview"),
    path(
        "admin/print/printers/sample-preview.png",
        views.printer_sample_preview,
        name="printer_sample_preview",
    ),
    path(
        "admin/print/ticket-text/preview.png",
        views.ticket_text_preview,
        name="ticket_text_preview",
    ),
]
