"""HttpExample: the function apimfn deploys behind API Management (Python v2 programming model)."""

import logging

import azure.functions as func

app = func.FunctionApp()


@app.function_name(name="HttpExample")
@app.route(route="HttpExample", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def http_example(req: func.HttpRequest) -> func.HttpResponse:
    logging.info("HttpExample processed a request.")

    name = req.params.get("name")
    if not name:
        try:
            body = req.get_json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            name = body.get("name")

    if name:
        return func.HttpResponse(
            f"Hello, {name}. This HTTP triggered function executed successfully."
        )
    return func.HttpResponse(
        "This HTTP triggered function executed successfully. "
        "Pass a name in the query string or in the request body for a personalized response.",
        status_code=200,
    )
