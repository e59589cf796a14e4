"""The API describes itself: an OpenAPI schema at /api/schema and docs at /api/docs, served
from this server (no CDN: a shop's network may have no internet)."""

import pytest


@pytest.mark.django_db
def test_the_schema_lists_every_operation_with_its_errors(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path, method in [
        ("/api/orders", "post"),
        ("/api/orders/{order_id}", "get"),
        ("/api/orders/{order_id}/confirm", "post"),
        ("/api/orders/{order_id}/cancel", "post"),
        ("/api/orders/{order_id}/reprint", "post"),
        ("/api/webhooks", "post"),
        ("/api/webhooks", "get"),
        ("/api/webhooks/{endpoint_id}", "delete"),
        ("/api/printers/status", "get"),
        ("/api/jobs", "post"),
        ("/api/alerts", "get"),
    ]:
        assert method in paths[path], (path, method)
    create = paths["/api/orders"]["post"]
    assert {"201", "200", "400", "401", "403", "409"} <= set(create["responses"])
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    item = schema["components"]["schemas"]["ItemIn"]["properties"]
    assert {"name", "category", "size", "temperature", "sugar", "toppings", "quantity",
            "unit_price"} <= set(item)  # fmt: skip


@pytest.mark.django_db
def test_the_docs_page_loads_its_viewer_from_this_server(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/schema" in html
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


@pytest.mark.django_db
def test_every_operation_but_the_docs_needs_a_declared_key(client):
    schema = client.get("/api/schema").json()
    schemes = set(schema["components"]["securitySchemes"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), (path, method)
            for requirement in operation["security"]:
                assert set(requirement) <= schemes, (path, method, requirement)
