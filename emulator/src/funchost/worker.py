"""The emulator's Python worker: imports a deployed function_app.py with the real azure-functions
package, then answers HTTP-trigger invocations as JSON lines (one request at a time).

stdin:  {"function", "method", "url", "headers", "params", "route_params", "body" (base64)}
stdout: first {"ready": true, "functions": [...]} (or {"ready": false, "error"}), then one
        {"status", "headers", "body" (base64)} or {"error": traceback} per request.
"""

import asyncio
import base64
import importlib
import inspect
import json
import os
import sys
import traceback

protocol = sys.stdout
# Whatever the user's code prints must not corrupt the protocol.
sys.stdout = sys.stderr


def send(obj):
    protocol.write(json.dumps(obj) + "\n")
    protocol.flush()


def index(app_dir):
    sys.path.insert(0, app_dir)
    os.chdir(app_dir)
    import azure.functions as func
    from azure.functions.decorators.function_app import FunctionRegister

    module = importlib.import_module("function_app")
    functions = {}
    for value in list(vars(module).values()):
        if not isinstance(value, FunctionRegister):
            continue
        for f in value.get_functions():
            trigger = f.get_trigger()
            functions[f.get_function_name()] = (f.get_user_function(), trigger.name)
    return func, functions


def to_response(func, result):
    if result is None:
        return {"status": 204, "headers": {}, "body": ""}
    if isinstance(result, func.HttpResponse):
        headers = {k: v for k, v in result.headers.items()}
        if not any(k.lower() == "content-type" for k in headers):
            ct = result.mimetype or "text/plain"
            if result.charset:
                ct += "; charset=" + result.charset
            headers["Content-Type"] = ct
        body = result.get_body() or b""
        return {"status": int(result.status_code), "headers": headers,
                "body": base64.b64encode(body).decode()}
    if isinstance(result, (str, bytes)):
        body = result.encode() if isinstance(result, str) else result
        return {"status": 200, "headers": {"Content-Type": "text/plain; charset=utf-8"},
                "body": base64.b64encode(body).decode()}
    raise TypeError("unsupported return type for an HTTP output: %r" % type(result))


def main():
    try:
        func, functions = index(sys.argv[1])
    except BaseException:
        send({"ready": False, "error": traceback.format_exc()})
        return
    send({"ready": True, "functions": sorted(functions)})
    loop = asyncio.new_event_loop()
    for line in sys.stdin.buffer:
        try:
            r = json.loads(line)
            fn, trigger_name = functions[r["function"]]
            req = func.HttpRequest(
                method=r["method"], url=r["url"], headers=r["headers"], params=r["params"],
                route_params=r["route_params"], body=base64.b64decode(r["body"]))
            kwargs = {}
            for name in inspect.signature(fn).parameters:
                if name == trigger_name:
                    kwargs[name] = req
            result = fn(**kwargs)
            if inspect.isawaitable(result):
                result = loop.run_until_complete(result)
            send(to_response(func, result))
        except BaseException:
            send({"error": traceback.format_exc()})


if __name__ == "__main__":
    main()
