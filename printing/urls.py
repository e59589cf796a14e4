from django.urls import path

from printing import views

app_name = "printing"

urlpatterns = [
    path("api/printers/status", views.printers_status, name="printers_status"),
    path("api/jobs", views.job_create, name="job_create"),
]
