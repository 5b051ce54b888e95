//! The admin API's OpenAPI document: valid for a real validator, with
//! unique operation IDs, the error schema on every 4xx/5xx, 401 on every
//! call, and examples, so generated clients work.

use std::collections::HashSet;
use std::process::Command;

use serde_json::Value;

use crate::helpers::*;
use crate::tools;

async fn served_document() -> Value {
    let app = spawn_app(&Backend::Sqlite, "").await;
    let (status, doc) = app.admin("GET", "/openapi.json", None).await;
    assert_eq!(status, 200);
    app.shutdown().await;
    doc
}

fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((format!("{} {path}", method.to_uppercase()), op));
        }
    }
    out
}

#[tokio::test]
async fn every_operation_is_unique_documents_errors_and_401() {
    let doc = served_document().await;
    let mut ids = HashSet::new();
    for (name, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: operationId"));
        assert!(
            ids.insert(id.to_string()),
            "{name}: operationId {id} is used twice"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.contains_key("401"), "{name} documents 401");
        assert!(responses.contains_key("503"), "{name} documents 503");
        for (code, response) in responses {
            if code.starts_with('4') || code.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{name} {code} has the error schema"
                );
            }
        }
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error", "detail"]));
    assert!(
        error["example"].is_object(),
        "the error schema has an example"
    );
    let event = &doc["components"]["schemas"]["EventItem"]["properties"];
    assert!(event["provider_event_id"]["example"].is_string(), "{event}");
    let statuses = &doc["components"]["schemas"]["EventStatus"]["enum"];
    assert_eq!(
        statuses,
        &serde_json::json!(["pending", "delivered", "failed", "cancelled", "unrouted"])
    );
}

#[tokio::test]
async fn openapi_spec_validator_accepts_the_document() {
    let Some(python) = tools::python_with("openapi_spec_validator") else {
        return;
    };
    let doc = served_document().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = Command::new(python)
        .arg(tools::script("validate_openapi.py"))
        .arg(&file)
        .output()
        .expect("run the validator");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    assert!(
        out.status.success(),
        "the validator refused the document:\n{text}"
    );
    assert!(text.contains("valid"), "{text}");
}
