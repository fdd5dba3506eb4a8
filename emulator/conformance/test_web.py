"""Flex Consumption through azure-mgmt-web 11.0.1 (api-version 2025-05-01): regions, plan, site with
functionAppConfig, app settings, Easy Auth settings, host keys."""

import pytest
from conftest import POLL


@pytest.fixture(scope="module")
def web(credential, subscription):
    from azure.mgmt.web import WebSiteManagementClient

    return WebSiteManagementClient(credential, subscription)


def test_flex_regions(web):
    names = [r.name for r in web.list_geo_regions(sku="FlexConsumption")]
    assert "Japan East" in names


def test_plan_site_settings_auth_and_keys(web, group, location, unique):
    plan = web.app_service_plans.begin_create_or_update(
        group, f"plan-{unique}",
        {"location": location, "kind": "functionapp",
         "sku": {"name": "FC1", "tier": "FlexConsumption"}, "properties": {"reserved": True}},
        polling_interval=POLL,
    ).result()
    assert plan.sku.name == "FC1"
    app = f"func-conf-{unique}"
    site = web.web_apps.begin_create_or_update(
        group, app,
        {
            "location": location,
            "kind": "functionapp,linux",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "serverFarmId": plan.id,
                "httpsOnly": True,
                "functionAppConfig": {
                    "deployment": {"storage": {
                        "type": "blobContainer",
                        "value": f"https://st{unique}.blob.core.windows.net/app-package",
                        "authentication": {"type": "SystemAssignedIdentity"},
                    }},
                    "runtime": {"name": "python", "version": "3.12"},
                    "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100},
                },
                "siteConfig": {"appSettings": [{"name": "AzureWebJobsStorage__accountName", "value": f"st{unique}"}]},
            },
        },
        polling_interval=POLL,
    ).result()
    assert site.identity.principal_id
    assert site.default_host_name == f"{app}.azurewebsites.net"
    scm = [h.name for h in site.host_name_ssl_states if h.host_type == "Repository"]
    assert scm == [f"{app}.scm.azurewebsites.net"]
    assert site.function_app_config.runtime.version == "3.12"

    settings = web.web_apps.list_application_settings(group, app)
    assert settings.properties["AzureWebJobsStorage__accountName"] == f"st{unique}"

    fresh = web.web_apps.get_auth_settings_v2(group, app)
    assert fresh.platform.enabled is False
    web.web_apps.update_auth_settings_v2(
        group, app,
        {"properties": {
            "platform": {"enabled": True, "runtimeVersion": "~1"},
            "globalValidation": {"requireAuthentication": True, "unauthenticatedClientAction": "Return401"},
            "identityProviders": {"azureActiveDirectory": {
                "enabled": True,
                "registration": {"clientId": "00000000-0000-0000-0000-000000000001",
                                 "openIdIssuer": "https://sts.windows.net/t/"},
                "validation": {"allowedAudiences": ["api://x"],
                               "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": ["p"]}}},
            }},
        }},
    )
    auth = web.web_apps.get_auth_settings_v2(group, app)
    assert auth.global_validation.unauthenticated_client_action == "Return401"
    assert auth.identity_providers.azure_active_directory.validation.default_authorization_policy.allowed_principals.identities == ["p"]

    key = web.web_apps.create_or_update_host_secret(group, app, "functionKeys", "apim-x", {"properties": {"name": "apim-x"}})
    assert key.name == "apim-x"
    keys = web.web_apps.list_host_keys(group, app)
    assert keys.master_key and "apim-x" in keys.function_keys
    assert list(web.web_apps.list_functions(group, app)) == []


def test_strict_mode_names_a_misspelt_property(web, group, location, unique):
    """The SDK cannot send a misspelt field; send the raw body through its pipeline."""
    from azure.core.rest import HttpRequest

    plan = web.app_service_plans.begin_create_or_update(
        group, f"plan2-{unique}",
        {"location": location, "kind": "functionapp", "sku": {"name": "FC1", "tier": "FlexConsumption"}, "properties": {"reserved": True}},
        polling_interval=POLL,
    ).result()
    body = {
        "location": location, "kind": "functionapp,linux", "properties": {
            "serverFarmId": plan.id,
            "functionAppConfig": {
                "deployment": {"storage": {"type": "blobContainer", "value": "https://x.blob.core.windows.net/c",
                                           "authentication": {"type": "SystemAssignedIdentity"}}},
                "runtime": {"nmae": "python", "version": "3.12"},
                "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100},
            }}}
    sub = web._config.subscription_id
    req = HttpRequest(
        "PUT",
        f"https://management.azure.com/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Web/sites/strict-{unique}?api-version=2025-05-01",
        json=body,
    )
    resp = web._client.send_request(req)
    assert resp.status_code == 400
    assert "functionAppConfig.runtime.nmae" in resp.text()
