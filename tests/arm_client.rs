//! The ARM client against a scripted ARM over real HTTPS: each test plays a response sequence
//! (most taken from recordings of real Azure sessions) and asserts the requests the client sent
//! and what it returned.

#[path = "support/arm_mock.rs"]
mod arm_mock;
mod support;

use apimfn::arm::{ArmClient, ErrorKind, FinalState, LroStatus, Poll, RetryPolicy};
use arm_mock::{ARM, FailingCredential, FakeCredential, MockArm, Reply, Seen, TOKEN, fast};
use reqwest::Method;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";
const APIM_V: &str = "2024-05-01";

fn rg() -> String {
    format!("{SUB}/resourceGroups/rg1")
}

fn apim() -> String {
    format!("{}/providers/Microsoft.ApiManagement/service/apim1", rg())
}

/// The shape of APIM's real operation-result URL: base64 id with `==`, a bare `asyncResponse`
/// key and signed `t`/`c`/`s`/`h` parameters with `-` and `_` in them.
fn apim_op_url(t: &str) -> String {
    format!(
        "{ARM}{}/operationresults/d2VzdHVzOmFwaW0xX0FjdF9mMmQ4NzdkMA==?api-version={APIM_V}&asyncResponse&t={t}&c=MIIHHjCCBgagAwIBAgITfwKX-_Rz&s=cw0AcLOAQ0Y4-LwNXerBtk_NIhaT1q&h=mimOeSxYyTXt4CUHCs_FZ0y6Ty",
        apim()
    )
}

/// Path and query of an absolute URL, as the server sees it.
fn pq(url: &str) -> String {
    url.strip_prefix(ARM).expect("absolute ARM url").to_string()
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

// ---------------------------------------------------------------------------------------------
// Plain requests

#[tokio::test]
async fn get_sends_bearer_token_fresh_client_request_id_and_api_version() {
    let body = json!({"id": format!("{}", rg()), "properties": {"provisioningState": "Succeeded"}});
    let mock = MockArm::script(vec![
        Reply::json(200, body.clone()),
        Reply::json(200, body.clone()),
    ])
    .await;
    let cred = Arc::new(FakeCredential::new(&[TOKEN]));
    let (client, _) = mock.client_with(cred.clone());

    assert_eq!(
        client.get(&rg(), "2025-04-01").await.expect("get"),
        Some(body.clone())
    );
    assert_eq!(
        client.get_required(&rg(), "2025-04-01").await.expect("get"),
        body
    );

    let seen = mock.seen();
    assert_eq!(
        mock.lines(),
        vec![
            format!("GET {}?api-version=2025-04-01", rg()),
            format!("GET {}?api-version=2025-04-01", rg()),
        ]
    );
    for s in &seen {
        assert_eq!(
            s.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(is_guid(
            s.header("x-ms-client-request-id")
                .expect("client request id")
        ));
    }
    assert_ne!(
        seen[0].header("x-ms-client-request-id"),
        seen[1].header("x-ms-client-request-id")
    );
    // A token per request, for the ARM scope.
    assert_eq!(cred.calls(), 2);
    assert_eq!(
        cred.scopes.lock().expect("lock")[0],
        "https://management.azure.com/.default"
    );
    assert_eq!(client.counter().reads, 2);
    assert_eq!(client.counter().writes, 0);
}

#[tokio::test]
async fn get_is_none_on_404_and_get_required_reports_the_azure_error() {
    let not_found = Reply::error(
        404,
        "ResourceNotFound",
        "The Resource 'Microsoft.Web/sites/x' under resource group 'rg1' was not found.",
    )
    .header("x-ms-request-id", "req-404")
    .header("x-ms-correlation-request-id", "corr-404");
    let mock = MockArm::script(vec![not_found.clone(), not_found]).await;
    let (client, sleeps) = mock.client();
    let site = format!("{}/providers/Microsoft.Web/sites/x", rg());

    assert_eq!(client.get(&site, "2025-05-01").await.expect("get"), None);
    let err = client
        .get_required(&site, "2025-05-01")
        .await
        .expect_err("404");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("ResourceNotFound"));
    assert_eq!(err.request_id(), Some("req-404"));
    assert_eq!(err.operation(), format!("GET {site}"));
    assert_eq!(err.kind(), ErrorKind::Http);
    assert_eq!(
        err.to_string(),
        format!(
            "(ResourceNotFound) The Resource 'Microsoft.Web/sites/x' under resource group 'rg1' was not found.\n\
             Code: ResourceNotFound\n\
             Message: The Resource 'Microsoft.Web/sites/x' under resource group 'rg1' was not found.\n\
             Operation: GET {site} (HTTP 404, request id req-404)"
        )
    );
    // 404 is an answer, not a failure to retry.
    assert_eq!(mock.seen().len(), 2);
    assert!(sleeps.all().is_empty());
}

#[tokio::test]
async fn app_service_pascal_case_errors_are_parsed() {
    let mock = MockArm::script(vec![Reply::json(
        400,
        json!({"Code": "BadRequest", "Message": "The parameter LinuxFxVersion has an invalid value.",
               "Target": null, "Details": [{"Message": "The parameter LinuxFxVersion has an invalid value."},
               {"Code": "BadRequest"}, {"ErrorEntity": {"ExtendedCode": "01007", "Code": "BadRequest",
               "Message": "The parameter LinuxFxVersion has an invalid value."}}], "Innererror": null}),
    )])
    .await;
    let (client, _) = mock.client();
    let site = format!("{}/providers/Microsoft.Web/sites/app", rg());
    let err = client
        .put(&site, "2025-05-01", &json!({}))
        .await
        .expect_err("400");
    assert_eq!(err.code(), Some("BadRequest"));
    assert_eq!(
        err.message(),
        "The parameter LinuxFxVersion has an invalid value."
    );
    assert!(
        err.to_string()
            .starts_with("(BadRequest) The parameter LinuxFxVersion")
    );
    assert_eq!(mock.seen().len(), 1);
}

#[tokio::test]
async fn non_json_error_bodies_still_make_a_readable_error() {
    let mock = MockArm::script(vec![Reply::text(
        502,
        "<html><body>Bad Gateway</body></html>",
    )])
    .await;
    let (client, _) = mock.client();
    let client = client.with_policy(RetryPolicy {
        max_attempts: 1,
        ..fast()
    });
    let err = client.get(&rg(), "2025-04-01").await.expect_err("502");
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.code(), None);
    assert_eq!(
        err.message(),
        "HTTP 502 Bad Gateway: <html><body>Bad Gateway</body></html>"
    );
    assert_eq!(mock.seen().len(), 1);
}

#[tokio::test]
async fn head_is_true_on_204_and_false_on_404() {
    let mock = MockArm::script(vec![Reply::empty(204), Reply::empty(404)]).await;
    let (client, _) = mock.client();
    assert!(client.head(&rg(), "2025-04-01").await.expect("head"));
    assert!(!client.head(&rg(), "2025-04-01").await.expect("head"));
    assert_eq!(
        mock.lines(),
        vec![
            format!("HEAD {}?api-version=2025-04-01", rg()),
            format!("HEAD {}?api-version=2025-04-01", rg())
        ]
    );
    assert_eq!(client.counter().reads, 2);
}

#[tokio::test]
async fn synchronous_put_returns_the_body_and_sends_it_as_json() {
    let created = json!({"id": rg(), "location": "westeurope", "properties": {"provisioningState": "Succeeded"}});
    let mock = MockArm::script(vec![Reply::json(201, created.clone())]).await;
    let (client, sleeps) = mock.client();
    let body = json!({"location": "westeurope", "tags": {}});
    assert_eq!(
        client.put(&rg(), "2025-04-01", &body).await.expect("put"),
        created
    );
    let seen = mock.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].line(),
        format!("PUT {}?api-version=2025-04-01", rg())
    );
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&seen[0].body).expect("json"),
        body
    );
    assert!(sleeps.all().is_empty());
    assert_eq!(client.counter().writes, 1);
}

#[tokio::test]
async fn low_level_send_carries_extra_headers_and_returns_status_and_headers() {
    let mock = MockArm::script(vec![
        Reply::json(200, json!({"name": "nv"})).header("etag", "\"AAAAAADmodU=\""),
    ])
    .await;
    let (client, _) = mock.client();
    let nv = format!("{}/namedValues/nv", apim());
    let req = client
        .request(Method::PATCH, &nv, APIM_V)
        .expect("request")
        .if_match_any()
        .json(&json!({"properties": {"tags": ["a"]}}));
    let resp = client.send(&req).await.expect("send");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("etag"), Some("\"AAAAAADmodU=\""));
    assert_eq!(resp.body, Some(json!({"name": "nv"})));
    let seen = mock.seen();
    assert_eq!(seen[0].line(), format!("PATCH {nv}?api-version={APIM_V}"));
    assert_eq!(seen[0].header("if-match"), Some("*"));
}

// ---------------------------------------------------------------------------------------------
// Long-running operations (sequences from the recordings)

fn apim_body(state: &str) -> serde_json::Value {
    json!({
        "id": apim(), "name": "apim1", "type": "Microsoft.ApiManagement/service", "location": "West US",
        "identity": {"type": "SystemAssigned", "principalId": "11111111-1111-1111-1111-111111111111"},
        "properties": {"provisioningState": state, "targetProvisioningState": if state == "Succeeded" { "" } else { state },
                       "gatewayUrl": "https://apim1.azure-api.net"}
    })
}

/// test_apim_deletedservice.yaml #2-#7: 201 with both headers and `Activating`, polls that each
/// carry a freshly signed URL, `Succeeded`, then a GET of the service.
fn apim_create_script() -> Vec<Reply> {
    vec![
        Reply::json(201, apim_body("Activating"))
            .header("azure-asyncoperation", &apim_op_url("1001"))
            .header("location", &apim_op_url("1002")),
        Reply::json(200, json!({"status": "InProgress"}))
            .header("azure-asyncoperation", &apim_op_url("2001"))
            .header("location", &apim_op_url("2002")),
        Reply::json(200, json!({"status": "InProgress"}))
            .header("azure-asyncoperation", &apim_op_url("3001"))
            .header("location", &apim_op_url("3002")),
        Reply::json(200, json!({"status": "Succeeded"})),
        Reply::json(200, apim_body("Succeeded")),
    ]
}

fn apim_create_requests() -> Vec<String> {
    vec![
        format!("PUT {}?api-version={APIM_V}", apim()),
        format!("GET {}", pq(&apim_op_url("1001"))),
        format!("GET {}", pq(&apim_op_url("2001"))),
        format!("GET {}", pq(&apim_op_url("3001"))),
        format!("GET {}?api-version={APIM_V}", apim()),
    ]
}

#[tokio::test]
async fn apim_create_polls_azure_async_operation_verbatim_then_gets_the_service() {
    let mock = MockArm::script(apim_create_script()).await;
    let (client, sleeps) = mock.client();
    let body = json!({"location": "westus", "sku": {"name": "Developer", "capacity": 1}});
    let result = client.put(&apim(), APIM_V, &body).await.expect("put");

    assert_eq!(result, apim_body("Succeeded"));
    // Polling URLs exactly as given (signed query intact, no api-version added), each poll
    // using the newest URL Azure handed out.
    assert_eq!(mock.lines(), apim_create_requests());
    // No Retry-After: the policy's growing interval (fast(): 1, 2, 4 ms).
    assert_eq!(
        sleeps.all(),
        vec![
            Duration::from_millis(1),
            Duration::from_millis(2),
            Duration::from_millis(4)
        ]
    );
    let counts = client.counter();
    assert_eq!((counts.reads, counts.writes), (4, 1));
}

#[tokio::test]
async fn apim_create_without_waiting_then_wait_with_progress() {
    let mock = MockArm::script(apim_create_script()).await;
    let (client, sleeps) = mock.client();
    let body = json!({"location": "westus"});

    let started = client
        .begin_put(&apim(), APIM_V, &body)
        .await
        .expect("begin");
    assert_eq!(started.status, 201);
    // The identity is in the first answer: role assignments can start before activation ends.
    let first = started.body.clone().expect("body");
    assert_eq!(first["properties"]["provisioningState"], "Activating");
    assert_eq!(
        first["identity"]["principalId"],
        "11111111-1111-1111-1111-111111111111"
    );
    let op = started.operation.expect("long-running");
    assert_eq!(op.poll_url().as_str(), apim_op_url("1001"));
    assert!(matches!(op.poll, Poll::AsyncOperation(_)));
    assert_eq!(op.label(), format!("PUT {}", apim()));
    assert_eq!(mock.seen().len(), 1, "begin must not poll");
    assert!(sleeps.all().is_empty());

    let mut progress: Vec<LroStatus> = Vec::new();
    let result = client
        .wait(&op, |s| progress.push(s.clone()))
        .await
        .expect("wait");
    assert_eq!(result, Some(apim_body("Succeeded")));
    assert_eq!(mock.lines(), apim_create_requests());
    let statuses: Vec<&str> = progress.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(statuses, vec!["Activating", "InProgress", "InProgress"]);
    let polls: Vec<u32> = progress.iter().map(|s| s.polls).collect();
    assert_eq!(polls, vec![0, 1, 2]);
    let next: Vec<Duration> = progress.iter().map(|s| s.next_poll).collect();
    assert_eq!(next, sleeps.all());
    assert!(progress.windows(2).all(|w| w[0].elapsed <= w[1].elapsed));
}

#[tokio::test]
async fn failed_async_operation_is_an_error_with_azures_code_and_message() {
    let mock = MockArm::script(vec![
        Reply::json(201, apim_body("Activating")).header("azure-asyncoperation", &apim_op_url("1")),
        Reply::json(200, json!({"status": "InProgress"})),
        Reply::json(
            200,
            json!({"status": "Failed", "error": {"code": "ActivationFailed",
            "message": "The API Management service could not be activated.", "details": null}}),
        )
        .header("x-ms-request-id", "req-failed"),
    ])
    .await;
    let (client, _) = mock.client();
    let err = client
        .put(&apim(), APIM_V, &json!({}))
        .await
        .expect_err("failed");
    assert_eq!(err.kind(), ErrorKind::OperationFailed);
    assert_eq!(err.code(), Some("ActivationFailed"));
    assert_eq!(
        err.message(),
        "The API Management service could not be activated."
    );
    assert_eq!(err.operation(), format!("PUT {}", apim()));
    assert_eq!(err.request_id(), Some("req-failed"));
    assert!(
        err.to_string()
            .starts_with("(ActivationFailed) The API Management service")
    );
    // No final GET after a failure.
    assert_eq!(mock.seen().len(), 3);
}

#[tokio::test]
async fn canceled_async_operation_without_error_body_names_the_status() {
    let mock = MockArm::script(vec![
        Reply::empty(202).header("azure-asyncoperation", &apim_op_url("1")),
        Reply::json(200, json!({"status": "Canceled"})),
    ])
    .await;
    let (client, _) = mock.client();
    let err = client.delete(&apim(), APIM_V).await.expect_err("canceled");
    assert_eq!(err.code(), Some("Canceled"));
    assert_eq!(
        err.message(),
        "the long-running operation ended with status Canceled"
    );
    assert_eq!(err.operation(), format!("DELETE {}", apim()));
}

#[tokio::test]
async fn apim_delete_with_async_operation_ends_without_a_final_get() {
    // test_apim_core_service.yaml #336-#338.
    let mock = MockArm::script(vec![
        Reply::json(202, apim_body("Terminating"))
            .header("azure-asyncoperation", &apim_op_url("1"))
            .header("location", &apim_op_url("2")),
        Reply::json(200, json!({"status": "InProgress"})),
        Reply::json(200, json!({"status": "Succeeded"})),
    ])
    .await;
    let (client, _) = mock.client();
    client.delete(&apim(), APIM_V).await.expect("delete");
    assert_eq!(
        mock.lines(),
        vec![
            format!("DELETE {}?api-version={APIM_V}", apim()),
            format!("GET {}", pq(&apim_op_url("1"))),
            format!("GET {}", pq(&apim_op_url("1"))),
        ]
    );
    assert_eq!((client.counter().reads, client.counter().writes), (2, 1));
}

#[tokio::test]
async fn named_value_202_location_then_201_with_the_entity() {
    // test_apim_named_value.yaml #0-#1 (plus one 202 poll, which the spec allows).
    let nv = format!("{}/namedValues/app-key", apim());
    let location =
        format!("{ARM}{nv}?api-version={APIM_V}&asyncId=63093a6ba578e918506caa97&asyncCode=201");
    let entity = json!({"id": nv, "type": "Microsoft.ApiManagement/service/namedValues", "name": "app-key",
        "properties": {"displayName": "app-key", "tags": ["key", "function", "auto"], "secret": true}});
    let mock = MockArm::script(vec![
        Reply::empty(202).header("location", &location),
        Reply::empty(202).header("location", &location),
        Reply::json(201, entity.clone()),
    ])
    .await;
    let (client, _) = mock.client();
    let req = client
        .request(Method::PUT, &nv, APIM_V)
        .expect("request")
        .if_match_any()
        .json(&json!({"properties": {"displayName": "app-key", "value": "s3cret-host-key-value", "secret": true}}))
        .final_state(FinalState::Location);
    let result = client.execute(&req).await.expect("put");
    assert_eq!(result, Some(entity));
    assert_eq!(
        mock.lines(),
        vec![
            format!("PUT {nv}?api-version={APIM_V}"),
            format!("GET {}", pq(&location)),
            format!("GET {}", pq(&location)),
        ]
    );
    assert_eq!(mock.seen()[0].header("if-match"), Some("*"));
}

#[tokio::test]
async fn final_state_via_location_reads_the_location_after_success() {
    // The spec's named-value example: 201 with Azure-AsyncOperation and Location.
    let nv = format!("{}/namedValues/testprop2", apim());
    let op = format!(
        "{ARM}{}/tenant/operationResults/5c730e343244df1b9cb56e85?api-version={APIM_V}",
        apim()
    );
    let location =
        format!("{ARM}{nv}?api-version={APIM_V}&asyncId=5c730e343244df1b9cb56e85&asyncCode=201");
    let entity =
        json!({"name": "testprop2", "properties": {"displayName": "prop3name", "secret": false}});
    let mock = MockArm::script(vec![
        Reply::json(
            201,
            json!({"name": "testprop2", "properties": {"provisioningState": "InProgress"}}),
        )
        .header("azure-asyncoperation", &op)
        .header("location", &location),
        Reply::json(200, json!({"status": "Succeeded"})),
        Reply::json(200, entity.clone()),
    ])
    .await;
    let (client, _) = mock.client();
    let req = client
        .request(Method::PUT, &nv, APIM_V)
        .expect("request")
        .json(&json!({}))
        .final_state(FinalState::Location);
    assert_eq!(client.execute(&req).await.expect("put"), Some(entity));
    assert_eq!(
        mock.lines(),
        vec![
            format!("PUT {nv}?api-version={APIM_V}"),
            format!("GET {}", pq(&op)),
            format!("GET {}", pq(&location)),
        ]
    );
}

#[tokio::test]
async fn apim_purge_202_location_202_then_200_empty() {
    // test_apim_deletedservice.yaml #24-#28.
    let deleted =
        format!("{SUB}/providers/Microsoft.ApiManagement/locations/westus/deletedservices/apim1");
    let location = format!(
        "{ARM}{deleted}/operationresults/d2VzdHVzOmFwaW0xX1Rlcm1fNDg1YjdmOTk=?api-version={APIM_V}"
    );
    let mock = MockArm::script(vec![
        Reply::json(202, json!({"id": deleted, "name": "apim1", "type": "Microsoft.ApiManagement/deletedservices",
            "properties": {"serviceId": apim(), "scheduledPurgeDate": "2024-02-16T10:00:00Z"}}))
            .header("location", &location),
        Reply::empty(202).header("location", &location),
        Reply::empty(202).header("location", &location),
        Reply::empty(200),
    ])
    .await;
    let (client, _) = mock.client();
    client.delete(&deleted, APIM_V).await.expect("purge");
    assert_eq!(
        mock.lines(),
        vec![
            format!("DELETE {deleted}?api-version={APIM_V}"),
            format!("GET {}", pq(&location)),
            format!("GET {}", pq(&location)),
            format!("GET {}", pq(&location)),
        ]
    );
    assert_eq!((client.counter().reads, client.counter().writes), (3, 1));
}

#[tokio::test]
async fn resource_group_delete_follows_each_new_location_until_200() {
    // test_apim_deletedservice.yaml #9-#22: each 202 carries a new `t=`.
    let loc = |t: &str| {
        format!(
            "{ARM}{SUB}/operationresults/eyJqb2JJZCI6IlJFU09VUkNFR1JPVVBERUxFVElPTkpPQi1DTEk6MkRURVNU?api-version=2025-04-01&t={t}&c=MIIH-_x&s=abc-_d&h=zz_9"
        )
    };
    let mock = MockArm::script(vec![
        Reply::empty(202)
            .header("location", &loc("1"))
            .header("retry-after", "15"),
        Reply::empty(202)
            .header("location", &loc("2"))
            .header("retry-after", "15"),
        Reply::empty(202).header("location", &loc("3")),
        Reply::empty(200),
    ])
    .await;
    let (client, sleeps) = mock.client();
    client.delete(&rg(), "2025-04-01").await.expect("delete");
    assert_eq!(
        mock.lines(),
        vec![
            format!("DELETE {}?api-version=2025-04-01", rg()),
            format!("GET {}", pq(&loc("1"))),
            format!("GET {}", pq(&loc("2"))),
            format!("GET {}", pq(&loc("3"))),
        ]
    );
    // Retry-After honoured while given; the policy's interval once it is not (third poll: 4 ms).
    assert_eq!(
        sleeps.all(),
        vec![
            Duration::from_secs(15),
            Duration::from_secs(15),
            Duration::from_millis(4)
        ]
    );
}

#[tokio::test]
async fn storage_account_202_location_honours_retry_after_and_returns_the_final_body() {
    // StorageAccountCreate.json: 202 + Location, poll until 200 with the account.
    let acct = format!("{}/providers/Microsoft.Storage/storageAccounts/st1", rg());
    let location = format!(
        "{ARM}{SUB}/providers/Microsoft.Storage/locations/westeurope/asyncoperations/8e0a4c4b?monitor=true&api-version=2025-08-01"
    );
    let account = json!({"name": "st1", "properties": {"provisioningState": "Succeeded",
        "primaryEndpoints": {"blob": "https://st1.blob.core.windows.net/"}}});
    let mock = MockArm::script(vec![
        Reply::empty(202)
            .header("location", &location)
            .header("retry-after", "17"),
        Reply::empty(202)
            .header("location", &location)
            .header("retry-after", "3"),
        Reply::json(200, account.clone()),
    ])
    .await;
    let (client, sleeps) = mock.client();
    let result = client
        .put(&acct, "2025-08-01", &json!({"kind": "StorageV2"}))
        .await
        .expect("put");
    assert_eq!(result, account);
    assert_eq!(
        mock.lines(),
        vec![
            format!("PUT {acct}?api-version=2025-08-01"),
            format!("GET {}", pq(&location)),
            format!("GET {}", pq(&location)),
        ]
    );
    assert_eq!(
        sleeps.all(),
        vec![Duration::from_secs(17), Duration::from_secs(3)]
    );
}

#[tokio::test]
async fn location_poll_ending_empty_for_a_put_reads_the_resource() {
    let acct = format!("{}/providers/Microsoft.Storage/storageAccounts/st1", rg());
    let location =
        format!("{ARM}{SUB}/providers/Microsoft.Storage/operations/1?api-version=2025-08-01");
    let account = json!({"name": "st1", "properties": {"provisioningState": "Succeeded"}});
    let mock = MockArm::script(vec![
        Reply::empty(202).header("location", &location),
        Reply::empty(200),
        Reply::json(200, account.clone()),
    ])
    .await;
    let (client, _) = mock.client();
    assert_eq!(
        client
            .put(&acct, "2025-08-01", &json!({}))
            .await
            .expect("put"),
        account
    );
    assert_eq!(
        mock.lines()[2],
        format!("GET {acct}?api-version=2025-08-01")
    );
}

#[tokio::test]
async fn non_terminal_provisioning_state_polls_the_resource_until_succeeded() {
    let acct = format!("{}/providers/Microsoft.Storage/storageAccounts/st1", rg());
    let state = |s: &str| json!({"name": "st1", "properties": {"provisioningState": s}});
    let mock = MockArm::script(vec![
        Reply::json(200, state("Creating")),
        Reply::json(200, state("Creating")),
        Reply::json(200, state("ResolvingDNS")),
        Reply::json(200, state("Succeeded")),
    ])
    .await;
    let (client, _) = mock.client();
    let mut seen_states = Vec::new();
    let started = client
        .begin_put(&acct, "2025-08-01", &json!({}))
        .await
        .expect("begin");
    let op = started.operation.expect("still creating");
    assert_eq!(op.poll, Poll::ProvisioningState);
    let result = client
        .wait(&op, |s| seen_states.push(s.status.clone()))
        .await
        .expect("wait");
    assert_eq!(result, Some(state("Succeeded")));
    assert_eq!(seen_states, vec!["Creating", "Creating", "ResolvingDNS"]);
    let get = format!("GET {acct}?api-version=2025-08-01");
    assert_eq!(
        mock.lines(),
        vec![
            format!("PUT {acct}?api-version=2025-08-01"),
            get.clone(),
            get.clone(),
            get
        ]
    );
}

#[tokio::test]
async fn provisioning_state_failed_is_an_error() {
    let mock = MockArm::script(vec![
        Reply::json(201, apim_body("Created")),
        Reply::json(
            200,
            json!({"properties": {"provisioningState": "Failed"},
            "error": {"code": "ServiceActivationFailed", "message": "capacity unavailable"}}),
        ),
    ])
    .await;
    let (client, _) = mock.client();
    let err = client
        .put(&apim(), APIM_V, &json!({}))
        .await
        .expect_err("failed");
    assert_eq!(err.kind(), ErrorKind::OperationFailed);
    assert_eq!(err.code(), Some("ServiceActivationFailed"));
    assert_eq!(err.message(), "capacity unavailable");
    assert_eq!(mock.seen().len(), 2);
}

#[tokio::test]
async fn wait_for_provisioning_resumes_an_activating_service() {
    let mock = MockArm::script(vec![
        Reply::json(200, apim_body("Activating")).header("retry-after", "60"),
        Reply::json(200, apim_body("Succeeded")),
    ])
    .await;
    let (client, sleeps) = mock.client();
    let mut statuses = Vec::new();
    let body = client
        .wait_for_provisioning(&apim(), APIM_V, |s| statuses.push(s.status.clone()))
        .await
        .expect("wait");
    assert_eq!(body, apim_body("Succeeded"));
    assert_eq!(statuses, vec!["InProgress", "Activating"]);
    assert_eq!(
        sleeps.all(),
        vec![Duration::from_millis(1), Duration::from_secs(60)]
    );
    let get = format!("GET {}?api-version={APIM_V}", apim());
    assert_eq!(mock.lines(), vec![get.clone(), get]);
}

#[tokio::test]
async fn post_with_async_operation_reads_its_result_from_location() {
    let action = format!(
        "{}/providers/Microsoft.Web/sites/app/syncfunctiontriggers",
        rg()
    );
    let op = format!(
        "{ARM}{SUB}/providers/Microsoft.Web/locations/westeurope/operations/42?api-version=2025-05-01"
    );
    let result_url = format!(
        "{ARM}{SUB}/providers/Microsoft.Web/locations/westeurope/operationResults/42?api-version=2025-05-01"
    );
    let mock = MockArm::script(vec![
        Reply::empty(202)
            .header("azure-asyncoperation", &op)
            .header("location", &result_url),
        Reply::json(200, json!({"status": "Running"})),
        Reply::json(200, json!({"status": "Succeeded"})),
        Reply::json(200, json!({"synced": true})),
    ])
    .await;
    let (client, _) = mock.client();
    let out = client
        .post(&action, "2025-05-01", None)
        .await
        .expect("post");
    assert_eq!(out, Some(json!({"synced": true})));
    assert_eq!(
        mock.lines(),
        vec![
            format!("POST {action}?api-version=2025-05-01"),
            format!("GET {}", pq(&op)),
            format!("GET {}", pq(&op)),
            format!("GET {}", pq(&result_url)),
        ]
    );
    assert_eq!((client.counter().reads, client.counter().writes), (3, 1));
}

#[tokio::test]
async fn delete_treats_404_and_204_as_already_gone() {
    let mock = MockArm::script(vec![
        Reply::error(
            404,
            "ResourceGroupNotFound",
            "Resource group 'rg1' could not be found.",
        ),
        Reply::empty(204),
    ])
    .await;
    let (client, _) = mock.client();
    client
        .delete(&rg(), "2025-04-01")
        .await
        .expect("404 is gone");
    client
        .delete(&rg(), "2025-04-01")
        .await
        .expect("204 is gone");
    assert_eq!(mock.seen().len(), 2);
    assert_eq!(client.counter().writes, 2);
}

// ---------------------------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn throttling_429_waits_exactly_retry_after_then_succeeds() {
    let mock = MockArm::script(vec![
        Reply::error(
            429,
            "TooManyRequests",
            "Number of read requests exceeded the limit.",
        )
        .header("retry-after", "7"),
        Reply::json(200, json!({"ok": true})),
    ])
    .await;
    let (client, sleeps) = mock.client();
    assert_eq!(
        client.get(&rg(), "1").await.expect("get"),
        Some(json!({"ok": true}))
    );
    assert_eq!(sleeps.all(), vec![Duration::from_secs(7)]);
    let seen = mock.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].uri, seen[1].uri);
    assert_ne!(
        seen[0].header("x-ms-client-request-id"),
        seen[1].header("x-ms-client-request-id")
    );
    // Every request sent counts, retries included.
    assert_eq!(client.counter().reads, 2);
}

#[tokio::test]
async fn throttling_outlasts_max_attempts_within_the_throttle_budget_then_gives_up() {
    // Ten 429s in a row (a subscription shared by many pipelines): more than max_attempts (4),
    // but within the budget, so the request goes through.
    let throttled = || {
        Reply::error(
            429,
            "TooManyRequests",
            "Number of read requests exceeded the limit.",
        )
        .header("retry-after", "2")
    };
    let mut script: Vec<Reply> = (0..10).map(|_| throttled()).collect();
    script.push(Reply::json(200, json!({"ok": true})));
    let mock = MockArm::script(script).await;
    let (client, sleeps) = mock.client();
    let client = client.with_policy(RetryPolicy {
        throttle_budget: Duration::from_secs(60),
        ..fast()
    });
    assert_eq!(
        client.get(&rg(), "1").await.expect("get"),
        Some(json!({"ok": true}))
    );
    assert_eq!(sleeps.all(), vec![Duration::from_secs(2); 10]);

    // Past the budget (3 × 2 s ≤ 7 s < 4 × 2 s), the 429s count as attempts again: with
    // max_attempts 4 in all, the request fails with Azure's throttling error.
    let script: Vec<Reply> = (0..20).map(|_| throttled()).collect();
    let mock = MockArm::script(script).await;
    let (client, _) = mock.client();
    let client = client.with_policy(RetryPolicy {
        throttle_budget: Duration::from_secs(7),
        ..fast()
    });
    let err = client
        .get(&rg(), "1")
        .await
        .expect_err("throttled for good");
    assert_eq!(err.status(), Some(429));
    assert_eq!(
        mock.seen().len(),
        3 + 4,
        "3 within the budget, then 4 attempts"
    );
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let date = at.format(&fmt).expect("date");
    let mock = MockArm::script(vec![
        Reply::error(503, "ServiceUnavailable", "try later").header("retry-after", &date),
        Reply::json(200, json!({})),
    ])
    .await;
    let (client, sleeps) = mock.client();
    client.get(&rg(), "1").await.expect("get");
    let waited = sleeps.all();
    assert_eq!(waited.len(), 1);
    assert!(
        waited[0] > Duration::from_secs(115) && waited[0] <= Duration::from_secs(120),
        "{waited:?}"
    );
}

#[tokio::test]
async fn transient_5xx_and_408_are_retried_with_jittered_backoff() {
    let mock = MockArm::script(vec![
        Reply::error(500, "InternalServerError", "boom"),
        Reply::text(502, "Bad Gateway"),
        Reply::error(504, "GatewayTimeout", "slow"),
        Reply::json(200, json!({"ok": 1})),
    ])
    .await;
    let (client, sleeps) = mock.client();
    assert_eq!(
        client.put(&rg(), "1", &json!({})).await.expect("put"),
        json!({"ok": 1})
    );
    assert_eq!(mock.seen().len(), 4);
    let waits = sleeps.all();
    assert_eq!(waits.len(), 3);
    let policy = fast();
    for (i, w) in waits.iter().enumerate() {
        assert!(*w <= policy.backoff_ceiling(i as u32 + 1), "{i}: {w:?}");
    }
    assert_eq!(client.counter().writes, 4);

    let mock = MockArm::script(vec![Reply::empty(408), Reply::json(200, json!({}))]).await;
    let (client, _) = mock.client();
    client.get(&rg(), "1").await.expect("get after 408");
    assert_eq!(mock.seen().len(), 2);
}

#[tokio::test]
async fn retries_stop_at_max_attempts_with_the_last_error() {
    let mock = MockArm::with(|_, _| {
        Reply::error(503, "ServiceUnavailable", "The service is unavailable.")
            .header("x-ms-request-id", "req-503")
    })
    .await;
    let (client, sleeps) = mock.client();
    let err = client.get(&rg(), "1").await.expect_err("503");
    assert_eq!(mock.seen().len(), fast().max_attempts as usize);
    assert_eq!(sleeps.all().len(), fast().max_attempts as usize - 1);
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    assert_eq!(err.request_id(), Some("req-503"));
}

#[tokio::test]
async fn conflicts_retry_only_when_another_operation_holds_the_resource() {
    // APIM's concurrency conflict: retried.
    let mock = MockArm::script(vec![
        Reply::error(
            409,
            "PessimisticConcurrencyConflict",
            "Operation on the API is in progress",
        ),
        Reply::json(200, json!({"name": "api"})),
    ])
    .await;
    let (client, _) = mock.client();
    let api = format!("{}/apis/app", apim());
    assert_eq!(
        client.put(&api, APIM_V, &json!({})).await.expect("put"),
        json!({"name": "api"})
    );
    assert_eq!(mock.seen().len(), 2);

    // App Service: a generic code with an "operation in progress" message: retried.
    let mock = MockArm::script(vec![
        Reply::json(409, json!({"Code": "Conflict", "Message": "There is already an operation in progress on this site. Please retry."})),
        Reply::json(200, json!({"name": "app"})),
    ])
    .await;
    let (client, _) = mock.client();
    client.put(&rg(), "1", &json!({})).await.expect("put");
    assert_eq!(mock.seen().len(), 2);

    // Final conflicts: one request each, the code available to the caller.
    for (code, message) in [
        (
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ),
        (
            "ScopeLocked",
            "The scope cannot perform write operation because of a lock; another operation in progress will not help.",
        ),
        ("Conflict", "Link already exists"),
    ] {
        let mock = MockArm::script(vec![Reply::error(409, code, message)]).await;
        let (client, sleeps) = mock.client();
        let err = client.put(&rg(), "1", &json!({})).await.expect_err(code);
        assert_eq!(mock.seen().len(), 1, "{code}");
        assert!(sleeps.all().is_empty(), "{code}");
        assert_eq!(err.status(), Some(409));
        assert!(err.has_code(code));
        assert_eq!(err.code(), Some(code));
    }
}

#[tokio::test]
async fn post_actions_are_resent_only_when_azure_surely_did_not_run_them() {
    let restart = format!("{}/providers/Microsoft.Web/sites/app/restart", rg());
    // 500 on a POST action: it may have run; not re-sent.
    let mock = MockArm::script(vec![
        Reply::error(500, "InternalServerError", "boom"),
        Reply::empty(200),
    ])
    .await;
    let (client, _) = mock.client();
    let err = client.post(&restart, "1", None).await.expect_err("500");
    assert_eq!(err.status(), Some(500));
    assert_eq!(mock.seen().len(), 1);

    // 503 and 429: Azure did not run it; re-sent.
    let mock = MockArm::script(vec![
        Reply::error(503, "ServiceUnavailable", "busy"),
        Reply::error(429, "TooManyRequests", "slow down").header("retry-after", "2"),
        Reply::empty(200),
    ])
    .await;
    let (client, sleeps) = mock.client();
    assert_eq!(client.post(&restart, "1", None).await.expect("post"), None);
    assert_eq!(mock.seen().len(), 3);
    assert_eq!(sleeps.all()[1], Duration::from_secs(2));

    // A read-only action (listKeys) is safe to re-send on any transient failure.
    let keys = format!(
        "{}/providers/Microsoft.Web/sites/app/host/default/listkeys",
        rg()
    );
    let mock = MockArm::script(vec![
        Reply::error(500, "InternalServerError", "boom"),
        Reply::json(
            200,
            json!({"masterKey": "m-0123456789", "functionKeys": {"default": "d-0123456789"}}),
        ),
    ])
    .await;
    let (client, _) = mock.client();
    let out = client
        .post(&keys, "2025-05-01", None)
        .await
        .expect("listkeys");
    assert_eq!(out.expect("keys")["masterKey"], "m-0123456789");
    assert_eq!(mock.seen().len(), 2);
    // listkeys is a read, twice.
    assert_eq!((client.counter().reads, client.counter().writes), (2, 0));
}

#[tokio::test]
async fn dropped_connections_are_retried_for_put_but_not_for_a_post_action() {
    let mock = MockArm::script(vec![
        Reply::drop_connection(),
        Reply::json(200, json!({"ok": true})),
    ])
    .await;
    let (client, sleeps) = mock.client();
    assert_eq!(
        client.put(&rg(), "1", &json!({})).await.expect("put"),
        json!({"ok": true})
    );
    assert_eq!(mock.seen().len(), 2);
    assert_eq!(sleeps.all().len(), 1);

    let mock = MockArm::script(vec![Reply::drop_connection(), Reply::empty(200)]).await;
    let (client, _) = mock.client();
    let restart = format!("{}/providers/Microsoft.Web/sites/app/restart", rg());
    let err = client.post(&restart, "1", None).await.expect_err("dropped");
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.status(), None);
    assert_eq!(err.operation(), format!("POST {restart}"));
    assert!(err.to_string().contains("no answer from Azure"), "{err}");
    assert!(
        !err.to_string().contains("api-version"),
        "no URL query: {err}"
    );
    assert_eq!(mock.seen().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_even_for_a_post_then_reported() {
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let http = reqwest::Client::builder()
        .no_proxy()
        .resolve(arm_mock::HOST, closed)
        .build()
        .expect("client");
    let sleeps = arm_mock::Sleeps::default();
    let client = ArmClient::new(
        http,
        Arc::new(FakeCredential::new(&[TOKEN])),
        url::Url::parse("https://management.azure.com/").expect("url"),
        "https://management.azure.com/.default".into(),
    )
    .with_policy(fast())
    .with_sleeper(sleeps.sleeper());
    let restart = format!("{}/providers/Microsoft.Web/sites/app/restart", rg());
    let err = client.post(&restart, "1", None).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(sleeps.all().len(), fast().max_attempts as usize - 1);
    assert_eq!(client.counter().writes, u64::from(fast().max_attempts));
    assert!(
        err.to_string()
            .contains(&format!("Operation: POST {restart}")),
        "{err}"
    );
}

#[tokio::test]
async fn real_sleeps_wait_the_requested_time() {
    // The default (tokio) sleeper: a `retry-after-ms: 40` really holds the retry back 40 ms.
    let mock = MockArm::script(vec![
        Reply::error(503, "ServiceUnavailable", "busy").header("retry-after-ms", "40"),
        Reply::json(200, json!({})),
    ])
    .await;
    let client = ArmClient::new(
        mock.server.client_for(&[arm_mock::HOST]),
        Arc::new(FakeCredential::new(&[TOKEN])),
        url::Url::parse("https://management.azure.com/").expect("url"),
        "https://management.azure.com/.default".into(),
    )
    .with_policy(fast());
    let t0 = std::time::Instant::now();
    client.get(&rg(), "1").await.expect("get");
    let elapsed = t0.elapsed();
    assert!(elapsed >= Duration::from_millis(40), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(mock.seen().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[tokio::test]
async fn a_long_wait_survives_token_expiry_with_one_refresh_retry() {
    // The credential's cache still hands out t1 once after ARM considers it expired (clock
    // skew), then refreshes to t2. ARM rejects t1 from the third request on.
    let t1 = "token-one-0123456789";
    let t2 = "token-two-0123456789";
    let cred = Arc::new(FakeCredential::new(&[t1, t1, t1, t2]));
    let expired = Arc::new(Mutex::new(false));
    let op_url = apim_op_url("1");
    let op_for_server = op_url.clone();
    let mock = MockArm::with(move |seen: &Seen, i| {
        let bearer = seen.header("authorization").unwrap_or("").to_string();
        if i >= 2 {
            *expired.lock().expect("lock") = true;
        }
        if *expired.lock().expect("lock") && bearer.contains("token-one") {
            return Reply::error(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
            );
        }
        match (seen.method.as_str(), i) {
            ("PUT", _) => Reply::json(201, apim_body("Activating"))
                .header("azure-asyncoperation", &op_for_server),
            ("GET", _) if seen.uri.contains("operationresults") => {
                let polls_ok = i; // 1: first poll, 3: retried second poll, 4: third poll
                if polls_ok >= 4 {
                    Reply::json(200, json!({"status": "Succeeded"}))
                } else {
                    Reply::json(200, json!({"status": "InProgress"}))
                }
            }
            _ => Reply::json(200, apim_body("Succeeded")),
        }
    })
    .await;
    let (client, _) = mock.client_with(cred.clone());
    let result = client.put(&apim(), APIM_V, &json!({})).await.expect("put");
    assert_eq!(result, apim_body("Succeeded"));

    let auth: Vec<String> = mock
        .seen()
        .iter()
        .map(|s| s.header("authorization").unwrap_or("").to_string())
        .collect();
    assert_eq!(
        auth,
        vec![
            format!("Bearer {t1}"), // PUT
            format!("Bearer {t1}"), // poll 1
            format!("Bearer {t1}"), // poll 2: 401 ExpiredAuthenticationToken
            format!("Bearer {t2}"), // poll 2 again, fresh token
            format!("Bearer {t2}"), // poll 3: Succeeded
            format!("Bearer {t2}"), // final GET
        ]
    );
    let lines = mock.lines();
    assert_eq!(lines[2], lines[3], "the rejected poll is re-sent as is");
    assert_eq!(cred.calls(), 6, "one token request per request sent");
}

#[tokio::test]
async fn a_token_rejected_twice_is_not_retried_again() {
    let mock = MockArm::with(|_, _| {
        Reply::error(
            401,
            "ExpiredAuthenticationToken",
            "The access token has expired.",
        )
    })
    .await;
    let (client, sleeps) = mock.client();
    let err = client.get(&rg(), "1").await.expect_err("401");
    assert_eq!(mock.seen().len(), 2);
    assert!(sleeps.all().is_empty());
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("ExpiredAuthenticationToken"));

    // Other 401/403s are not retried at all.
    let mock = MockArm::script(vec![Reply::error(403, "AuthorizationFailed", "no access")]).await;
    let (client, _) = mock.client();
    let err = client.get(&rg(), "1").await.expect_err("403");
    assert_eq!(err.code(), Some("AuthorizationFailed"));
    assert_eq!(mock.seen().len(), 1);
}

#[tokio::test]
async fn token_failure_is_an_arm_error_and_nothing_is_sent() {
    let mock = MockArm::script(vec![Reply::json(200, json!({}))]).await;
    let (client, _) = mock.client_with(Arc::new(FailingCredential));
    let err = client
        .put(&rg(), "1", &json!({}))
        .await
        .expect_err("no token");
    assert_eq!(err.kind(), ErrorKind::Token);
    assert_eq!(err.operation(), format!("PUT {}", rg()));
    let text = err.to_string();
    assert!(
        text.starts_with(
            "could not get an access token for https://management.azure.com/.default:"
        ),
        "{text}"
    );
    assert!(text.contains("az login"), "{text}");
    assert!(mock.seen().is_empty());
    assert_eq!(client.counter(), Default::default());
}

#[tokio::test]
async fn tokens_are_registered_as_secrets_and_never_in_errors() {
    let secret_token = "eyJ0eXAiOiJKV1Qi.secret-token-for-redaction-test";
    let mock = MockArm::script(vec![Reply::error(400, "InvalidRequest", "bad")]).await;
    let (client, _) = mock.client_with(Arc::new(FakeCredential::new(&[secret_token])));
    let err = client.get(&rg(), "1").await.expect_err("400");
    assert!(!err.to_string().contains(secret_token));
    assert!(!format!("{err:?}").contains(secret_token));
    assert!(!format!("{client:?}").contains(secret_token));
    assert_eq!(
        apimfn::output::redact(&format!("Authorization: Bearer {secret_token}")),
        "Authorization: Bearer ***"
    );
}

/// Everything logged by this test binary. A global subscriber, because a thread-scoped one
/// (`set_default`) races with other tests over tracing's global callsite-interest cache.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    use std::io::Write;
    use std::sync::OnceLock;
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        #[derive(Clone)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("lock").extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Buf(buf.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        buf
    })
    .clone()
}

#[tokio::test]
async fn debug_logs_name_the_request_and_azure_ids_but_not_token_query_or_body() {
    let buf = captured_log();
    let nv = format!("{}/namedValues/app-key", apim());
    let location =
        format!("{ARM}{nv}?api-version={APIM_V}&asyncId=abc&asyncCode=201&sig=SIGNED-QUERY-VALUE");
    let mock = MockArm::script(vec![
        Reply::empty(202)
            .header("location", &location)
            .header("x-ms-request-id", "rid-111")
            .header("x-ms-correlation-request-id", "cid-222"),
        Reply::json(201, json!({"name": "app-key"})),
    ])
    .await;
    let (client, _) = mock.client();
    client
        .put(
            &nv,
            APIM_V,
            &json!({"properties": {"value": "host-key-SECRET-VALUE"}}),
        )
        .await
        .expect("put");
    let log = String::from_utf8(buf.lock().expect("lock").clone()).expect("utf8");
    assert!(log.contains("PUT"), "{log}");
    assert!(log.contains(&nv), "{log}");
    assert!(log.contains("202"), "{log}");
    assert!(log.contains("rid-111"), "{log}");
    assert!(log.contains("cid-222"), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
    assert!(!log.contains("host-key-SECRET-VALUE"), "{log}");
    assert!(!log.contains("SIGNED-QUERY-VALUE"), "{log}");
}

// ---------------------------------------------------------------------------------------------
// Lists and counting

#[tokio::test]
async fn list_follows_next_link_verbatim_and_concatenates_pages() {
    let functions = format!("{}/providers/Microsoft.Web/sites/app/functions", rg());
    let next = format!(
        "{ARM}{functions}?api-version=2025-05-01&%24skiptoken=eyJ0b2tlbiI6IjEifQ%3D%3D&top=1"
    );
    let mock = MockArm::script(vec![
        Reply::json(
            200,
            json!({"value": [{"name": "app/HttpExample"}], "nextLink": next}),
        ),
        Reply::json(
            200,
            json!({"value": [{"name": "app/Other"}], "nextLink": null}),
        ),
    ])
    .await;
    let (client, _) = mock.client();
    let items = client.list(&functions, "2025-05-01").await.expect("list");
    assert_eq!(
        items,
        vec![
            json!({"name": "app/HttpExample"}),
            json!({"name": "app/Other"})
        ]
    );
    assert_eq!(
        mock.lines(),
        vec![
            format!("GET {functions}?api-version=2025-05-01"),
            format!("GET {}", pq(&next)),
        ]
    );
    assert_eq!(client.counter().reads, 2);
}

#[tokio::test]
async fn list_of_an_empty_collection_and_a_looping_next_link() {
    let mock = MockArm::script(vec![Reply::json(200, json!({"value": [], "count": 0}))]).await;
    let (client, _) = mock.client();
    assert!(
        client
            .list(&format!("{}/apis", apim()), APIM_V)
            .await
            .expect("list")
            .is_empty()
    );

    let path = format!("{}/apis", apim());
    let same = format!("{ARM}{path}?api-version={APIM_V}");
    let mock =
        MockArm::with(move |_, _| Reply::json(200, json!({"value": [1], "nextLink": same}))).await;
    let (client, _) = mock.client();
    let err = client.list(&path, APIM_V).await.expect_err("loop");
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert_eq!(mock.seen().len(), 1);
}

#[tokio::test]
async fn counter_splits_reads_and_writes_by_method_and_action() {
    let mock = MockArm::with(|seen: &Seen, _| match seen.method.as_str() {
        "DELETE" => Reply::empty(204),
        "HEAD" => Reply::empty(204),
        _ => Reply::json(200, json!({"ok": true})),
    })
    .await;
    let (client, _) = mock.client();
    let svc = apim();
    client.put(&svc, APIM_V, &json!({})).await.expect("put");
    client.patch(&svc, APIM_V, &json!({})).await.expect("patch");
    client.get(&svc, APIM_V).await.expect("get");
    client.head(&rg(), "1").await.expect("head");
    client
        .list(&format!("{svc}/apis"), APIM_V)
        .await
        .expect("list");
    client
        .delete(&format!("{svc}/apis/a"), APIM_V)
        .await
        .expect("delete");
    for action in [
        "listKeys",
        "listkeys",
        "listSecrets",
        "listValue",
        "checkNameAvailability",
    ] {
        client
            .post(&format!("{svc}/x/{action}"), APIM_V, Some(&json!({})))
            .await
            .expect("post");
    }
    client
        .post(&format!("{svc}/x/regenerateKey"), APIM_V, None)
        .await
        .expect("post");
    let counts = client.counter();
    assert_eq!((counts.reads, counts.writes), (3 + 5, 4));
    assert_eq!(mock.seen().len(), 12);
    assert_eq!(
        serde_json::to_value(counts).expect("json"),
        json!({"reads": 8, "writes": 4})
    );
}

// ---------------------------------------------------------------------------------------------
// In flight and cancellation

#[tokio::test]
async fn requests_and_waits_are_registered_in_flight_while_they_run() {
    // A name no other test uses: the in-flight registry is process-wide.
    let svc = format!(
        "{}/providers/Microsoft.ApiManagement/service/apim-inflight",
        rg()
    );
    let op = format!("{ARM}{svc}/operationresults/aW5mbGlnaHQ=?api-version={APIM_V}&asyncResponse");
    let mock = MockArm::script(vec![
        Reply::json(
            201,
            json!({"properties": {"provisioningState": "Activating"}}),
        )
        .header("azure-asyncoperation", &op),
        Reply::json(200, json!({"status": "InProgress"})),
        Reply::json(200, json!({"status": "Succeeded"})),
        Reply::json(
            200,
            json!({"properties": {"provisioningState": "Succeeded"}}),
        ),
    ])
    .await;
    let (client, _) = mock.client();
    let mut during_wait = Vec::new();
    let started = client
        .begin_put(&svc, APIM_V, &json!({}))
        .await
        .expect("begin");
    let op = started.operation.expect("lro");
    client
        .wait(&op, |_| during_wait.push(apimfn::inflight::snapshot()))
        .await
        .expect("wait");
    let label = format!("PUT {svc} (waiting for Azure to finish)");
    assert_eq!(during_wait.len(), 2);
    assert!(
        during_wait.iter().all(|s| s.contains(&label)),
        "{during_wait:?}"
    );
    let seen = mock.seen();
    // The server saw the PUT while it was registered, by method and path (no query).
    assert!(seen[0].in_flight.contains(&format!("PUT {svc}")));
    // Polls and the final GET ran inside the wait.
    assert!(seen[1..].iter().all(|s| s.in_flight.contains(&label)));
    // Everything is unregistered once done.
    assert!(
        !apimfn::inflight::snapshot()
            .iter()
            .any(|s| s.contains("apim-inflight"))
    );
}

#[tokio::test]
async fn dropping_a_wait_midway_is_clean() {
    let path = format!(
        "{}/providers/Microsoft.ApiManagement/service/apim-never",
        rg()
    );
    // The server says when the second poll arrives; the wait is dropped right then, the way
    // Ctrl-C or `--timeout` drops it.
    let second_poll = Arc::new(tokio::sync::Notify::new());
    let notify = second_poll.clone();
    let mock = MockArm::with(move |seen: &Seen, i| {
        if i == 2 {
            notify.notify_one();
        }
        let code = if seen.method == "PUT" { 201 } else { 200 };
        Reply::json(
            code,
            json!({"properties": {"provisioningState": "Activating"}}),
        )
    })
    .await;
    let client = ArmClient::new(
        mock.server.client_for(&[arm_mock::HOST]),
        Arc::new(FakeCredential::new(&[TOKEN])),
        url::Url::parse("https://management.azure.com/").expect("url"),
        "https://management.azure.com/.default".into(),
    )
    .with_policy(RetryPolicy {
        poll_initial: Duration::from_millis(5),
        poll_max: Duration::from_millis(5),
        ..fast()
    });
    let body = json!({});
    let put = client.put(&path, APIM_V, &body);
    tokio::select! {
        r = put => panic!("the activation never ends, yet put returned {r:?}"),
        _ = second_poll.notified() => {}
        _ = tokio::time::sleep(Duration::from_secs(20)) => panic!("no second poll within 20 s"),
    }
    // The put future is dropped now; nothing of it stays registered.
    assert!(mock.seen().len() >= 3, "it was polling");
    assert!(
        !apimfn::inflight::snapshot()
            .iter()
            .any(|s| s.contains("apim-never"))
    );
    // The client is still usable afterwards.
    let mock2 = MockArm::script(vec![Reply::json(200, json!({"ok": true}))]).await;
    let (client2, _) = mock2.client();
    assert_eq!(
        client2.get(&path, APIM_V).await.expect("get"),
        Some(json!({"ok": true}))
    );
}

#[tokio::test]
async fn async_operation_202_without_body_runs_and_200_without_status_is_invalid() {
    let mock = MockArm::script(vec![
        Reply::empty(202).header("azure-asyncoperation", &apim_op_url("1")),
        Reply::empty(202),
        Reply::json(200, json!({"status": "Succeeded"})),
    ])
    .await;
    let (client, _) = mock.client();
    client.delete(&apim(), APIM_V).await.expect("delete");
    assert_eq!(mock.seen().len(), 3);

    let mock = MockArm::script(vec![
        Reply::empty(202).header("azure-asyncoperation", &apim_op_url("1")),
        Reply::json(200, json!({"name": "no status here"})),
    ])
    .await;
    let (client, _) = mock.client();
    let err = client.delete(&apim(), APIM_V).await.expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert_eq!(err.operation(), format!("DELETE {}, while polling", apim()));
    assert_eq!(mock.seen().len(), 2);
}
