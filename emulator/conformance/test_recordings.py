"""Replays real recorded Azure sessions (../shared/reference/recordings, azure-cli test recordings)
against the emulator and compares what matters: status codes, the long-running-operation headers
(`Location`, `Azure-AsyncOperation`) and the body shapes (top-level and `properties` keys).

Each recording is replayed in order on a reset emulator, with the recording's own names and
api-versions; only the subscription is substituted. A run of polls on one operation URL is replayed
as "poll the emulator's URL until it ends" and compared with the recording's last poll. Calls to
features the emulator does not model are listed in SKIPPED with the reason — everything else must
match.
"""

import json
import pathlib
import re
import time
from urllib.parse import urlsplit

import pytest
import requests
import yaml

REC = pathlib.Path(__file__).resolve().parents[3] / "shared" / "reference" / "recordings"
RECORDED_SUB = "00000000-0000-0000-0000-000000000000"
LRO_HEADERS = ("location", "azure-asyncoperation")

# Path fragments of calls the emulator does not model, and why.
SKIPPED = {
    "/backup": "APIM backup/restore is outside apimfn's workflow",
    "/apiVersionSets": "API version sets are not modelled",
    "/products": "products are not modelled (apimfn uses the built-in master subscription)",
    "/revisions": "API revisions are not modelled",
    "%3Brev%3D": "API revisions are not modelled",
    "/releases": "API releases are not modelled",
    "/schemas": "GraphQL schemas are not modelled",
    "/resolvers": "GraphQL resolvers are not modelled",
    "/apis/48242ec7f53745de9cbb800757a4204a": "OpenAPI import (value/format) is not modelled",
    "/apis/gr-": "GraphQL APIs are not modelled",
    "/apis/ws-": "WebSocket APIs are not modelled",
    "Microsoft.OperationalInsights": "Log Analytics is not modelled (apimfn uses no Application Insights)",
    "Microsoft.Insights": "Application Insights is not modelled",
    "functionAppStacks": "the tenant-level (non-location) stacks list is not modelled",
    "/providers/Microsoft.ApiManagement/service?": "listing services by group",
}


def load(name):
    path = REC / name
    if not path.exists():
        pytest.fail(f"recording missing: {path} (../shared/reference must be beside the repository)")
    return yaml.safe_load(path.read_text())["interactions"]


def steps(interactions):
    """Group consecutive GETs of the same URL path (a poll run) into one step."""
    out = []
    for it in interactions:
        req = it["request"]
        key = (req["method"], urlsplit(req["uri"]).path)
        if out and req["method"] == "GET" and out[-1][0] == key and "operationresults" in key[1].lower():
            out[-1][1].append(it)
        else:
            out.append((key, [it]))
    return out


def body_of(resp_rec):
    text = resp_rec["body"]["string"] if resp_rec.get("body") else ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        return json.loads(text) if text and text.strip() else None
    except ValueError:
        return None


def shape_diff(expected, actual):
    """Keys the recording has that the emulator lacks (top level and properties)."""
    if not isinstance(expected, dict):
        return []
    if not isinstance(actual, dict):
        return ["<body is not a JSON object>"]
    missing = [k for k in expected if k not in actual]
    if isinstance(expected.get("properties"), dict):
        props = actual.get("properties") if isinstance(actual.get("properties"), dict) else {}
        missing += [f"properties.{k}" for k in expected["properties"] if k not in props]
    return missing


class Replayer:
    def __init__(self, emulator, credential):
        self.sub = emulator["subscriptionId"]
        self.admin = emulator["url"]
        self.token = credential.get_token("https://management.azure.com/.default").token
        self.session = requests.Session()
        self.url_map = {}
        self.problems = []
        self.replayed = 0
        # Fields the recording shows only because of calls skipped above (with the reason).
        self.allowed_missing = {}

    def reset(self):
        r = self.session.post(f"{self.admin}/.emulator/reset")
        assert r.status_code in (200, 204)

    def send(self, method, url, body=None, extra=None):
        headers = {"Authorization": f"Bearer {self.token}", **(extra or {})}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.session.request(method, url, data=body, headers=headers)

    def sub_url(self, uri):
        return uri.replace(RECORDED_SUB, self.sub)

    def remember_lro(self, recorded, ours):
        for h in LRO_HEADERS:
            rec_url = recorded["headers"].get(h) or recorded["headers"].get(h.title())
            our_url = ours.headers.get(h)
            if rec_url and our_url:
                self.url_map[rec_url[0]] = our_url

    def compare(self, label, recorded, ours):
        problems = []
        if recorded["status"]["code"] != ours.status_code:
            problems.append(f"status {ours.status_code}, recorded {recorded['status']['code']}: {ours.text[:300]}")
        for h in LRO_HEADERS:
            rec_has = h in {k.lower() for k in recorded["headers"]}
            if rec_has and h not in ours.headers:
                problems.append(f"missing header {h}")
        try:
            actual = ours.json() if ours.content else None
        except ValueError:
            actual = None
        missing = [m for m in shape_diff(body_of(recorded), actual) if m not in self.allowed_missing]
        if missing:
            problems.append(f"body lacks {missing}")
        if problems:
            self.problems.append(f"{label}: " + "; ".join(problems))

    def run(self, name, skipped=()):
        for (method, path), group in steps(load(name)):
            uri = group[0]["request"]["uri"]
            if urlsplit(uri).hostname != "management.azure.com":
                continue
            reason = next((r for frag, r in {**SKIPPED, **dict(skipped)}.items() if frag in uri), None)
            if reason:
                continue
            label = f"{name}: {method} {path}"
            self.replayed += 1
            our_poll = self.url_map.get(uri)
            if method == "GET" and not our_poll and "/operationresults/" in path.lower():
                # A poll of an operation whose call was skipped above.
                self.replayed -= 1
                continue
            if method == "GET" and our_poll:
                final = group[-1]["response"]
                resp = self.poll(our_poll, final["status"]["code"])
                self.compare(label + " (poll)", final, resp)
                continue
            body = group[0]["request"].get("body")
            if isinstance(body, bytes):
                body = body.decode()
            headers = group[0]["request"].get("headers") or {}
            extra = {k: v[0] for k, v in headers.items() if k.lower() == "if-match"}
            resp = self.send(method, self.sub_url(uri), body=self.sub_url(body) if body else None, extra=extra)
            self.compare(label, group[0]["response"], resp)
            self.remember_lro(group[0]["response"], resp)

    def poll(self, url, final_status, timeout=60):
        deadline = time.time() + timeout
        while True:
            resp = self.send("GET", url)
            done = resp.status_code != 202
            if done and resp.content:
                try:
                    done = resp.json().get("status", "Succeeded") not in ("InProgress", "Running", "Accepted")
                except ValueError:
                    pass
            if done or time.time() > deadline:
                return resp
            time.sleep(0.05)


@pytest.fixture()
def replayer(emulator, credential):
    r = Replayer(emulator, credential)
    r.session.verify = emulator["caCert"]
    r.reset()
    return r


def prelude_group(r, group, location="westus"):
    """Create the group a recording assumes exists (made before the recorded part)."""
    base = f"https://management.azure.com/subscriptions/{r.sub}/resourceGroups/{group}"
    assert r.send("PUT", f"{base}?api-version=2022-09-01", json.dumps({"location": location})).status_code in (200, 201)
    return base


def prelude_service(r, group, name, location="westus", sku="Developer"):
    """Create the service a recording assumes exists."""
    base = prelude_group(r, group, location)
    svc = f"{base}/providers/Microsoft.ApiManagement/service/{name}?api-version=2022-08-01"
    created = r.send("PUT", svc, json.dumps({
        "location": location, "sku": {"name": sku, "capacity": 1 if sku != "Consumption" else 0},
        "properties": {"publisherEmail": "e@example.com", "publisherName": "p"}}))
    assert created.status_code in (200, 201), created.text
    deadline = time.time() + 60
    while r.send("GET", svc).json()["properties"]["provisioningState"] != "Succeeded":
        assert time.time() < deadline, "service never activated"
        time.sleep(0.05)


def test_apim_deleted_service_recording(replayer):
    replayer.run("test_apim_deletedservice.yaml")
    assert replayer.replayed >= 8
    assert not replayer.problems, "\n".join(replayer.problems)


def test_apim_named_value_recording(replayer):
    prelude_service(replayer, "cli_test_apim_nv-000001", "clitest000002")
    replayer.run("test_apim_named_value.yaml")
    assert replayer.replayed >= 8
    assert not replayer.problems, "\n".join(replayer.problems)


def test_apim_core_service_recording(replayer):
    prelude_group(replayer, "cli_test_apim-000001")
    replayer.allowed_missing = {
        "properties.apiRevisionDescription": "set by the API revision calls, which are skipped",
    }
    replayer.run(
        "test_apim_core_service.yaml",
        skipped=[("/storageAccounts/clitest000002/listKeys", "the storage account for the backup test")],
    )
    assert replayer.replayed >= 20
    assert not replayer.problems, "\n".join(replayer.problems)
