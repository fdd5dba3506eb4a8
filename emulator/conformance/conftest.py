"""Drives the emulator with Microsoft's own Python SDKs.

The emulator runs as `apimfn emulator` (binary from $APIMFN_BIN, default target/debug/apimfn); every
Azure host name is redirected to its loopback port at the socket level, and its CA is trusted, so
the SDKs run unmodified against the real host names.
"""

import json
import os
import pathlib
import subprocess
import tempfile
import time
import uuid

import pytest
import urllib3.util.connection

ROOT = pathlib.Path(__file__).resolve().parents[2]
AZURE_SUFFIXES = (
    "management.azure.com",
    "login.microsoftonline.com",
    "graph.microsoft.com",
    ".azure-api.net",
    ".azurewebsites.net",
    ".blob.core.windows.net",
)
# Tiny, so APIM's 45-minute activation takes about a second.
TIME_SCALE = float(os.environ.get("APIMFN_CONFORMANCE_TIME_SCALE", "0.0005"))
# SDK pollers wait 30 s between polls unless told otherwise; the emulator's durations are scaled.
POLL = 0.05


def _binary():
    explicit = os.environ.get("APIMFN_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "debug" / "apimfn")


@pytest.fixture(scope="session")
def emulator():
    state = tempfile.mkdtemp(prefix="apimfn-conformance-")
    ready = pathlib.Path(state) / "ready.json"
    proc = subprocess.Popen(
        [
            _binary(),
            "emulator",
            "--port",
            "0",
            "--state-dir",
            state,
            "--time-scale",
            str(TIME_SCALE),
            "--ready-file",
            str(ready),
            "--strict",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while not ready.exists():
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"the emulator did not start (exit {proc.poll()})")
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    port = int(info["url"].rsplit(":", 1)[1])

    original = urllib3.util.connection.create_connection

    def redirected(address, *args, **kwargs):
        host, _ = address
        if host.endswith(AZURE_SUFFIXES):
            return original(("127.0.0.1", port), *args, **kwargs)
        return original(address, *args, **kwargs)

    urllib3.util.connection.create_connection = redirected
    os.environ["REQUESTS_CA_BUNDLE"] = info["caCert"]
    os.environ["SSL_CERT_FILE"] = info["caCert"]
    yield info
    urllib3.util.connection.create_connection = original
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def credential(emulator):
    from azure.identity import ClientSecretCredential

    return ClientSecretCredential(
        emulator["tenantId"], emulator["clientId"], emulator["clientSecret"]
    )


@pytest.fixture(scope="session")
def subscription(emulator):
    return emulator["subscriptionId"]


@pytest.fixture(scope="session")
def location():
    return "japaneast"


@pytest.fixture()
def unique():
    """A short unique suffix for globally unique names."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def resources(credential, subscription):
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(credential, subscription)


@pytest.fixture()
def group(resources, location, unique):
    name = f"rg-conf-{unique}"
    resources.resource_groups.create_or_update(name, {"location": location})
    return name
