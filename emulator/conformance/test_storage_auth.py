"""Storage (azure-mgmt-storage 25.0.0, api-version 2025-08-01) and role assignments
(azure-mgmt-authorization 4.0.0, 2022-04-01)."""

import uuid

import pytest
from conftest import POLL

BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"


@pytest.fixture(scope="module")
def storage(credential, subscription):
    from azure.mgmt.storage import StorageManagementClient

    return StorageManagementClient(credential, subscription)


@pytest.fixture(scope="module")
def auth(credential, subscription):
    from azure.mgmt.authorization import AuthorizationManagementClient

    return AuthorizationManagementClient(credential, subscription)


def test_storage_account_lro_keys_and_container(storage, group, location, unique):
    name = f"stconf{unique}"
    check = storage.storage_accounts.check_name_availability(
        {"name": name, "type": "Microsoft.Storage/storageAccounts"}
    )
    assert check.name_available
    acct = storage.storage_accounts.begin_create(
        group, name,
        {"location": location, "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
         "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
                        "supportsHttpsTrafficOnly": True}},
        polling_interval=POLL,
    ).result()
    assert acct.provisioning_state == "Succeeded"
    assert acct.primary_endpoints.blob == f"https://{name}.blob.core.windows.net/"
    keys = storage.storage_accounts.list_keys(group, name)
    # The hybrid models are mappings too, so `.keys` is the mapping method: index by wire name.
    assert [k["keyName"] for k in keys["keys"]] == ["key1", "key2"]
    container = storage.blob_containers.create(group, name, "app-package", {})
    assert container.name == "app-package"


def test_role_assignment_and_duplicate(auth, storage, group, location, subscription, unique):
    from azure.core.exceptions import HttpResponseError

    name = f"stra{unique}"
    acct = storage.storage_accounts.begin_create(
        group, name,
        {"location": location, "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
        polling_interval=POLL,
    ).result()
    role = f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_DATA_OWNER}"
    principal = str(uuid.uuid4())
    params = {"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}
    ra = auth.role_assignments.create(acct.id, str(uuid.uuid4()), params)
    assert ra.principal_id == principal and ra.role_definition_id.endswith(BLOB_DATA_OWNER)
    with pytest.raises(HttpResponseError) as e:
        auth.role_assignments.create(acct.id, str(uuid.uuid4()), params)
    assert e.value.status_code == 409 and e.value.error.code == "RoleAssignmentExists"
    definition = auth.role_definitions.get(acct.id, BLOB_DATA_OWNER)
    assert definition.role_name == "Storage Blob Data Owner"
