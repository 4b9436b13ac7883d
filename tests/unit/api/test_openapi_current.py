"""docs/openapi.json is generated from the code; this fails when someone changed a route or model
without re-exporting (fix: .venv/bin/python scripts/export_openapi.py)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _exporter():
    spec = importlib.util.spec_from_file_location("export_openapi", ROOT / "scripts" / "export_openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_openapi_matches_the_code():
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == _exporter().render(), "docs/openapi.json is stale: run .venv/bin/python scripts/export_openapi.py"


def test_document_covers_the_design_table_and_errors_are_problem_json():
    doc = json.loads(_exporter().render())
    paths = doc["paths"]
    for method, path in [("post", "/api/v1/tickets"), ("get", "/api/v1/tickets/{ticket_ref}"), ("get", "/api/v1/tickets"),
                         ("post", "/api/v1/tickets/{ticket_ref}/messages"), ("get", "/api/v1/tickets/{ticket_ref}/messages"),
                         ("post", "/api/v1/tickets/{ticket_ref}/status"), ("post", "/api/v1/tickets/{ticket_ref}/assign"),
                         ("post", "/api/v1/queue/next"), ("post", "/api/v1/tickets/{ticket_ref}/merge"),
                         ("get", "/api/v1/search"), ("post", "/api/v1/kb/suggest"), ("get", "/api/v1/agents/me"),
                         ("post", "/api/v1/public/tickets"), ("get", "/api/v1/portal/{token}")]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing"
        assert "application/problem+json" in paths[path][method]["responses"]["default"]["content"]
    limit = next(p for p in paths["/api/v1/tickets"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["minimum"] == 1 and limit["schema"]["maximum"] == 100
