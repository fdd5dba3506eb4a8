"""API Management through azure-mgmt-apimanagement 5.0.0 (api-version 2024-05-01): the service's
long-running create with the SDK's own poller, the import's sub-resources, soft delete and purge."""

import pytest
from conftest import POLL


@pytest.fixture(scope="module")
def apim(credential, subscription):
    from azure.mgmt.apimanagement import ApiManagementClient

    return ApiManagementClient(credential, subscription)


@pytest.fixture(scope="module")
def service(apim, resources, location):
    import uuid

    suffix = uuid.uuid4().hex[:8]
    group = f"rg-apim-{suffix}"
    resources.resource_groups.create_or_update(group, {"location": location})
    name = f"apim-conf-{suffix}"
    assert apim.api_management_service.check_name_availability({"name": name}).name_available
    poller = apim.api_management_service.begin_create_or_update(
        group,
        name,
        {
            "location": location,
            "sku": {"name": "Developer", "capacity": 1},
            "identity": {"type": "SystemAssigned"},
            "publisher_email": "ops@example.com",
            "publisher_name": "Conformance",
        },
        polling_interval=POLL,
    )
    svc = poller.result()
    return {"group": group, "name": name, "svc": svc}


def test_service_activates_with_identity_and_gateway(apim, service):
    svc = service["svc"]
    assert svc.provisioning_state == "Succeeded"
    assert svc.identity.type == "SystemAssigned"
    assert svc.identity.principal_id
    assert svc.gateway_url == f"https://{service['name']}.azure-api.net"
    assert svc.sku.name == "Developer" and svc.sku.capacity == 1
    taken = apim.api_management_service.check_name_availability({"name": service["name"]})
    assert taken.name_available is False


def test_named_value_backend_api_operation_policy(apim, service):
    g, s = service["group"], service["name"]
    nv = apim.named_value.begin_create_or_update(
        g, s, "app-key",
        {"display_name": "app-key", "value": "s3cret-value", "secret": True, "tags": ["key", "function"]},
        polling_interval=POLL,
    ).result()
    assert nv.display_name == "app-key" and nv.secret is True
    assert apim.named_value.list_value(g, s, "app-key").value == "s3cret-value"

    backend = apim.backend.create_or_update(
        g, s, "app",
        {
            "url": "https://app.azurewebsites.net/api",
            "protocol": "http",
            "credentials": {"header": {"x-functions-key": ["{{app-key}}"]}},
        },
    )
    assert backend.url == "https://app.azurewebsites.net/api"
    assert backend.credentials.header == {"x-functions-key": ["{{app-key}}"]}

    api = apim.api.begin_create_or_update(
        g, s, "app",
        {"display_name": "app", "path": "app", "protocols": ["https"],
         "service_url": "https://app.azurewebsites.net/api", "subscription_required": True},
        polling_interval=POLL,
    ).result()
    assert api.path == "app"

    op = apim.api_operation.create_or_update(
        g, s, "app", "get-httpexample",
        {"display_name": "HttpExample", "method": "GET", "url_template": "/HttpExample"},
    )
    assert op.method == "GET" and op.url_template == "/HttpExample"

    xml = ('<policies><inbound><base /><set-backend-service id="apim-generated-policy" '
           'backend-id="app" /></inbound><backend><base /></backend><outbound><base />'
           '</outbound><on-error><base /></on-error></policies>')
    policy = apim.api_policy.create_or_update(g, s, "app", "policy", {"format": "rawxml", "value": xml})
    assert "set-backend-service" in policy.value


def test_malformed_policy_is_a_validation_error(apim, service):
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as e:
        apim.api_policy.create_or_update(
            service["group"], service["name"], "app", "policy",
            {"format": "rawxml", "value": "<policies><inbound>"},
        )
    assert e.value.status_code == 400
    assert e.value.error.code == "ValidationError"


def test_master_subscription_secrets(apim, service):
    keys = apim.subscription.list_secrets(service["group"], service["name"], "master")
    assert keys.primary_key and keys.secondary_key and keys.primary_key != keys.secondary_key


def test_soft_delete_then_purge(apim, resources, location):
    import uuid

    suffix = uuid.uuid4().hex[:8]
    group, name = f"rg-apimdel-{suffix}", f"apim-del-{suffix}"
    resources.resource_groups.create_or_update(group, {"location": location})
    apim.api_management_service.begin_create_or_update(
        group, name,
        {"location": location, "sku": {"name": "Consumption", "capacity": 0},
         "publisher_email": "ops@example.com", "publisher_name": "Conformance"},
        polling_interval=POLL,
    ).result()
    apim.api_management_service.begin_delete(group, name, polling_interval=POLL).result()
    deleted = apim.deleted_services.get_by_name(name, location)
    assert deleted.service_id.endswith(f"/service/{name}")
    assert deleted.scheduled_purge_date
    assert name in [d.name for d in apim.deleted_services.list_by_subscription()]
    assert apim.api_management_service.check_name_availability({"name": name}).name_available is False
    apim.deleted_services.begin_purge(name, location, polling_interval=POLL).result()
    assert name not in [d.name for d in apim.deleted_services.list_by_subscription()]
