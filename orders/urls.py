from django.urls import path

from orders import views

app_name = "backoffice"

urlpatterns = [
    path("", views.board, name="board"),
    path("data", views.board_data, name="data"),
    path("orders/new", views.create_test_order, name="create"),
    path("orders/<int:order_id>/confirm", views.confirm, name="confirm"),
    path("orders/<int:order_id>/cancel", views.cancel, name="cancel"),
    path("orders/<int:order_id>/reprint", views.reprint, name="reprint"),
]
