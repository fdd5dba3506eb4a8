"""Resource groups through azure-mgmt-resource (api-version 2025-04-01)."""

from conftest import POLL


def test_group_create_get_exists_and_delete_lro(resources, location, unique):
    name = f"rg-life-{unique}"
    created = resources.resource_groups.create_or_update(name, {"location": location})
    assert created.name == name
    assert created.properties.provisioning_state == "Succeeded"
    assert created.location == location

    again = resources.resource_groups.create_or_update(name, {"location": location, "tags": {"a": "b"}})
    assert again.tags == {"a": "b"}
    assert resources.resource_groups.check_existence(name) is True
    assert resources.resource_groups.get(name).id.endswith(f"/resourceGroups/{name}")
    assert name in [g.name for g in resources.resource_groups.list()]

    resources.resource_groups.begin_delete(name, polling_interval=POLL).result()
    assert resources.resource_groups.check_existence(name) is False


def test_a_group_cannot_move_to_another_location(resources, group):
    from azure.core.exceptions import HttpResponseError

    try:
        resources.resource_groups.create_or_update(group, {"location": "westeurope"})
    except HttpResponseError as e:
        assert e.status_code == 409
        assert e.error.code == "InvalidResourceGroupLocation"
    else:
        raise AssertionError("moving a group must fail")
