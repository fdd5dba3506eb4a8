"""Runs the bundled function template with the real azure-functions package and checks its answers.

Usage: python tests/python/check_template.py  (needs `pip install azure-functions`)
"""

import importlib.util
import json
import pathlib
import sys

import azure.functions as func

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    "function_app", ROOT / "templates" / "function" / "function_app.py"
)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

passed = failed = 0


def check(label, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {label}: {detail}", file=sys.stderr)


functions = module.app.get_functions()
check("one function", len(functions) == 1, [f.get_function_name() for f in functions])
fn = functions[0]
check("name", fn.get_function_name() == "HttpExample", fn.get_function_name())
trigger = fn.get_trigger()
binding = trigger.get_dict_repr()
check("route", binding.get("route") == "HttpExample", binding)
check("methods", sorted(str(m) for m in binding.get("methods", [])) == ["GET", "POST"], binding)
check("anonymous", str(binding.get("authLevel")).upper() == "ANONYMOUS", binding)

handler = fn.get_user_function()


def call(method, params=None, body=b""):
    req = func.HttpRequest(method=method, url="/api/HttpExample", params=params or {}, body=body)
    return handler(req)


r = call("GET", {"name": "apimfn"})
check("query name", r.status_code == 200 and r.get_body().decode().startswith("Hello, apimfn."), r.get_body())
r = call("POST", body=json.dumps({"name": "body"}).encode())
check("json name", r.get_body().decode().startswith("Hello, body."), r.get_body())
r = call("GET")
check("hint", "Pass a name" in r.get_body().decode(), r.get_body())
r = call("POST", body=b"not json")
check("bad json", r.status_code == 200 and "Pass a name" in r.get_body().decode(), r.get_body())

print(f"template: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
