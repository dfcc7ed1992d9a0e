"""The Management API's OpenAPI document, checked against a real server.

The document (GET /api/v2/openapi.json) must be a valid OpenAPI 3.1 document
(openapi-spec-validator). Then every operation it lists is called on a fresh
Gatehouse, and each reply is checked against what the document declares for
that path, method and status: the status must be listed, an empty reply must
be declared empty, and a JSON reply must validate against the declared schema
(openapi-schema-validator's 3.1 dialect) and carry no property the schema
leaves undeclared. Request bodies are validated against the declared request
schema before they are sent. The last test checks that every operation was
exercised, so an endpoint added to the route table is covered here too.
"""

import pytest
import requests
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

CONNECTION = "Username-Password-Authentication"
PASSWORD = "correct horse battery staple"
API = "https://openapi.example/"


def resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def validator(doc, schema):
    # The components travel with the schema so that its $refs resolve.
    return OAS31Validator({**schema, "components": doc["components"]})


def effective(doc, schema, value):
    """The properties, the items schema and whether the object is closed, as
    `schema` declares them for `value`: through $ref, allOf, and the oneOf or
    anyOf branch that `value` matches."""
    schema = resolve(doc, schema)
    props = dict(schema.get("properties", {}))
    items = schema.get("items")
    closed = "properties" in schema or schema.get("additionalProperties") is False
    parts = list(schema.get("allOf", []))
    branches = schema.get("oneOf", []) + schema.get("anyOf", [])
    parts += [b for b in branches if validator(doc, b).is_valid(value)][:1]
    for part in parts:
        more, part_items, part_closed = effective(doc, part, value)
        props.update(more)
        items = items or part_items
        closed = closed or part_closed
    return props, items, closed


def undeclared(doc, schema, value, where="$"):
    """Paths of properties in `value` that `schema` does not declare."""
    props, items, closed = effective(doc, schema, value)
    if isinstance(value, dict):
        for key, child in value.items():
            if key in props:
                yield from undeclared(doc, props[key], child, f"{where}.{key}")
            elif closed:
                yield f"{where}.{key}"
    elif isinstance(value, list) and items is not None:
        for i, child in enumerate(value):
            yield from undeclared(doc, items, child, f"{where}[{i}]")


def check_against(doc, schema, value):
    validator(doc, schema).validate(value)
    extra = list(undeclared(doc, schema, value))
    assert not extra, f"not in the schema: {extra}"


class Api:
    """Calls the Management API and checks each exchange against the document."""

    def __init__(self, server, doc, token):
        self.base = f"{server.base_url}/api/v2"
        self.doc = doc
        self.token = token
        self.covered = set()

    def call(self, method, template, *, params=None, json=None, token="default", **path):
        operation = self.doc["paths"][template][method.lower()]
        if json is not None:
            declared = operation["requestBody"]["content"]["application/json"]["schema"]
            check_against(self.doc, declared, json)
        headers = {}
        token = self.token if token == "default" else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = self.base + template.format(**{k: requests.utils.quote(v, safe="") for k, v in path.items()})
        reply = requests.request(method, url, params=params, json=json, headers=headers, timeout=10)
        status = str(reply.status_code)
        what = f"{method} {template} -> {status}: {reply.text[:300]}"
        assert status in operation["responses"], f"undocumented status: {what}"
        content = operation["responses"][status].get("content")
        self.covered.add((method.lower(), template))
        if content is None:
            assert reply.content == b"", what
            return reply.status_code, None
        assert reply.headers["content-type"].startswith("application/json"), what
        body = reply.json()
        check_against(self.doc, content["application/json"]["schema"], body)
        return reply.status_code, body

    def ok(self, method, template, status=200, **kw):
        got, body = self.call(method, template, **kw)
        assert got == status, (method, template, got, body)
        return body


@pytest.fixture(scope="module")
def doc(own_gatehouse):
    reply = requests.get(f"{own_gatehouse.base_url}/api/v2/openapi.json", timeout=10)
    assert reply.status_code == 200
    return reply.json()


def management_token(server):
    creds = server.creds
    reply = requests.post(
        f"{server.base_url}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": creds["management_client_id"],
            "client_secret": creds["management_client_secret"],
            "audience": creds["management_audience"],
        },
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


@pytest.fixture(scope="module")
def api(own_gatehouse, doc):
    return Api(own_gatehouse, doc, management_token(own_gatehouse))


def test_document_is_valid_openapi_31(doc, own_gatehouse):
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": f"{own_gatehouse.base_url}/api/v2"}]
    flows = doc["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == f"{own_gatehouse.base_url}/oauth/token"
    assert "read:users" in flows["clientCredentials"]["scopes"]
    create_user = doc["paths"]["/users"]["post"]
    assert create_user["security"] == [{"oauth2": ["create:users"]}]
    body = create_user["requestBody"]["content"]["application/json"]["schema"]
    assert resolve(doc, body)["additionalProperties"] is False
    # Real schemas, not empty objects: every JSON reply names its shape.
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                for media in response.get("content", {}).values():
                    assert media["schema"], (method, path, status)


def test_users(api):
    created = api.ok(
        "POST",
        "/users",
        201,
        json={
            "connection": CONNECTION,
            "email": "alice@example.com",
            "password": PASSWORD,
            "name": "Alice",
            "user_metadata": {"color": "green"},
        },
    )
    assert "given_name" not in created  # unset profile fields are left out
    uid = created["user_id"]
    api.ok("GET", "/users")
    page = api.ok("GET", "/users", params={"include_totals": "true", "per_page": 1})
    assert page["length"] == 1 and page["total"] == 2  # alice and the bootstrap admin
    api.ok("GET", "/users", params={"q": 'email:"alice@example.com"', "search_engine": "v3"})
    api.ok("GET", "/users/{id}", id=uid)
    found = api.ok("GET", "/users-by-email", params={"email": "ALICE@example.com"})
    assert [u["user_id"] for u in found] == [uid]
    api.ok("PATCH", "/users/{id}", id=uid, json={"nickname": "al", "app_metadata": {"plan": "pro"}})
    api.ok("GET", "/user-blocks/{id}", id=uid)
    api.ok("GET", "/user-blocks", params={"identifier": "alice@example.com"})
    api.ok("DELETE", "/user-blocks/{id}", 204, id=uid)
    api.ok("DELETE", "/user-blocks", 204, params={"identifier": "alice@example.com"})


def test_apis_roles_and_permissions(api):
    created = api.ok(
        "POST",
        "/resource-servers",
        201,
        json={
            "name": "Measurements",
            "identifier": API,
            "scopes": [{"value": "read:m", "description": "Read"}, {"value": "write:m"}],
            "enforce_policies": True,
            "token_dialect": "access_token_authz",
        },
    )
    api.ok("GET", "/resource-servers")
    api.ok("GET", "/resource-servers", params={"include_totals": "true"})
    api.ok("GET", "/resource-servers/{id}", id=created["id"])
    api.ok("GET", "/resource-servers/{id}", id=API)
    api.ok("PATCH", "/resource-servers/{id}", id=created["id"], json={"signing_alg": "HS256", "token_lifetime": 3600})

    role = api.ok("POST", "/roles", json={"name": "reader", "description": "Reads"})
    api.ok("GET", "/roles")
    api.ok("GET", "/roles", params={"include_totals": "true", "name_filter": "read"})
    api.ok("GET", "/roles/{id}", id=role["id"])
    api.ok("PATCH", "/roles/{id}", id=role["id"], json={"description": "Reads measurements"})
    perms = {"permissions": [{"resource_server_identifier": API, "permission_name": "read:m"}]}
    api.ok("POST", "/roles/{id}/permissions", id=role["id"], json=perms)
    assert api.ok("GET", "/roles/{id}/permissions", id=role["id"])[0]["resource_server_name"] == "Measurements"

    alice = api.ok("GET", "/users", params={"q": 'email:"alice@example.com"'})[0]["user_id"]
    api.ok("POST", "/roles/{id}/users", id=role["id"], json={"users": [alice]})
    members = api.ok("GET", "/roles/{id}/users", id=role["id"], params={"include_totals": "true"})
    assert [m["user_id"] for m in members["users"]] == [alice]
    api.ok("POST", "/users/{id}/roles", id=alice, json={"roles": [role["id"]]})
    api.ok("GET", "/users/{id}/roles", id=alice)
    direct = {"permissions": [{"resource_server_identifier": API, "permission_name": "write:m"}]}
    api.ok("POST", "/users/{id}/permissions", id=alice, json=direct)
    listed = api.ok("GET", "/users/{id}/permissions", id=alice, params={"include_totals": "true"})
    sources = {p["permission_name"]: p["sources"][0]["source_type"] for p in listed["permissions"]}
    assert sources == {"read:m": "ROLE", "write:m": "DIRECT"}
    api.ok("DELETE", "/users/{id}/permissions", id=alice, json=direct)
    api.ok("DELETE", "/users/{id}/roles", id=alice, json={"roles": [role["id"]]})
    api.ok("DELETE", "/roles/{id}/permissions", id=role["id"], json=perms)
    api.ok("DELETE", "/roles/{id}", id=role["id"])


def test_clients_and_grants(api):
    spa = api.ok("POST", "/clients", 201, json={"name": "SPA", "app_type": "spa", "callbacks": ["http://localhost:4200/cb"]})
    assert "client_secret" not in spa
    m2m = api.ok("POST", "/clients", 201, json={"name": "Worker", "app_type": "non_interactive"})
    assert m2m["client_secret"]
    api.ok("GET", "/clients")
    api.ok("GET", "/clients", params={"include_totals": "true", "app_type": "spa,non_interactive"})
    api.ok("GET", "/clients/{id}", id=spa["client_id"])
    became_confidential = api.ok(
        "PATCH", "/clients/{id}", id=spa["client_id"], json={"token_endpoint_auth_method": "client_secret_post"}
    )
    assert became_confidential["client_secret"]
    api.ok("POST", "/clients/{id}/rotate-secret", id=m2m["client_id"])

    grant = api.ok("POST", "/client-grants", 201, json={"client_id": m2m["client_id"], "audience": API, "scope": ["read:m"]})
    api.ok("GET", "/client-grants")
    api.ok("GET", "/client-grants", params={"include_totals": "true"})
    first = api.ok("GET", "/client-grants", params={"take": 1})
    assert "next" in first  # the bootstrap grant and this one
    api.ok("GET", "/client-grants", params={"take": 1, "from": first["next"]})
    api.ok("GET", "/client-grants/{id}", id=grant["id"])
    api.ok("PATCH", "/client-grants/{id}", id=grant["id"], json={"scope": ["read:m", "write:m"]})
    api.ok("DELETE", "/client-grants/{id}", 204, id=grant["id"])
    api.ok("DELETE", "/clients/{id}", 204, id=spa["client_id"])
    api.ok("DELETE", "/clients/{id}", 204, id=m2m["client_id"])


def test_connections_keys_logs_and_settings(api, own_gatehouse):
    connections = api.ok("GET", "/connections")
    api.ok("GET", "/connections", params={"include_totals": "true", "strategy": "auth0"})
    cid = connections[0]["id"]
    api.ok("GET", "/connections/{id}", id=cid)
    api.ok("PATCH", "/connections/{id}", id=cid, json={"options": {"disable_signup": True}})

    api.ok("GET", "/keys/signing")
    rotated = api.ok("POST", "/keys/signing/rotate", 201)
    # Revoking the previous key revokes the token it signed: get a new one.
    api.token = management_token(own_gatehouse)
    keys = api.ok("GET", "/keys/signing")
    previous = next(k for k in keys if k["previous"])
    api.ok("GET", "/keys/signing/{kid}", kid=rotated["kid"])
    api.ok("PUT", "/keys/signing/{kid}/revoke", kid=previous["kid"])
    assert api.ok("GET", "/keys/signing/{kid}", kid=previous["kid"])["revoked_at"]

    logs = api.ok("GET", "/logs")
    api.ok("GET", "/logs", params={"include_totals": "true", "per_page": 2})
    api.ok("GET", "/logs/{id}", id=logs[0]["log_id"])
    api.ok("GET", "/logs", params={"q": "type:seccft AND date:[2000-01-01 TO *]", "sort": "date:1"})
    api.ok("GET", "/logs", params={"from": logs[-1]["log_id"], "take": 2})
    api.ok("GET", "/users/{id}/logs", id="auth0|000000000000000000000000", params={"include_totals": "true"})
    status, body = api.call("GET", "/logs", params={"q": "type:s OR type:f"})
    assert (status, body["errorCode"]) == (400, "invalid_query_string")

    assert api.ok("GET", "/stats/active-users") >= 0
    daily = api.ok("GET", "/stats/daily", params={"from": "20000101", "to": "20991231"})
    assert all(day["leaked_passwords"] == 0 for day in daily)

    api.ok("GET", "/tenants/settings")
    api.ok("PATCH", "/tenants/settings", json={"friendly_name": "Docs", "rate_limits": {"signups_per_ip": 20}})


def test_explain_and_simulate(api, own_gatehouse):
    creds = own_gatehouse.creds
    explained = api.ok("POST", "/x-gatehouse/explain", json={"input": api.token})
    assert explained["input"] == "access_token"
    assert all(check["holds"] for check in explained["checks"]), explained["checks"]
    simulated = api.ok(
        "POST",
        "/x-gatehouse/simulate",
        json={
            "client_id": creds["management_client_id"],
            "grant": "client_credentials",
            "audience": creds["management_audience"],
            "scope": "read:logs",
        },
    )
    assert simulated["outcome"] == "issued"
    assert simulated["access_token"]["claims"]["scope"] == "read:logs"


def test_actions(api, own_gatehouse):
    code = "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://x/a', 1); };"
    body = {
        "name": "Docs action",
        "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "code": code,
        "dependencies": [],
        "runtime": "node22",
        "secrets": [{"name": "K", "value": "docs-secret-value"}],
    }
    action = api.ok("POST", "/actions/actions", 201, json=body)
    api.ok("GET", "/actions/actions", params={"triggerId": "post-login"})
    api.ok("GET", "/actions/actions/{id}", id=action["id"])
    api.ok("PATCH", "/actions/actions/{id}", id=action["id"], json={"secrets": [{"name": "K"}]})
    version = api.ok("POST", "/actions/actions/{id}/deploy", id=action["id"])
    assert version["number"] == 1
    tested = api.ok("POST", "/actions/actions/{id}/test", id=action["id"], json={"payload": {"user": {}}})
    assert tested["payload"]["calls"][0]["method"] == "accessToken.setCustomClaim"
    api.ok("GET", "/actions/triggers")
    binding = {"ref": {"type": "action_id", "value": action["id"]}, "display_name": "Docs"}
    api.ok("PATCH", "/actions/triggers/{triggerId}/bindings", triggerId="post-login", json={"bindings": [binding]})
    flow = api.ok("GET", "/actions/triggers/{triggerId}/bindings", triggerId="post-login")
    assert flow["bindings"][0]["display_name"] == "Docs"
    status, body = api.call("GET", "/actions/executions/{id}", id="exe_missing")
    assert (status, body["errorCode"]) == (404, "inexistent_execution")
    status, body = api.call("DELETE", "/actions/actions/{id}", id=action["id"])
    assert (status, body["errorCode"]) == (409, "action_bound")
    api.ok("DELETE", "/actions/actions/{id}", 204, id=action["id"], params={"force": "true"})


def test_email(api, own_gatehouse):
    alice = api.ok("GET", "/users", params={"q": 'email:"alice@example.com"'})[0]["user_id"]
    ticket = api.ok("POST", "/tickets/password-change", 201, json={"user_id": alice, "ttl_sec": 600})
    assert "/u/reset-password?ticket=" in ticket["ticket"]
    ticket = api.ok("POST", "/tickets/email-verification", 201, json={"user_id": alice})
    assert "/u/email-verification?ticket=" in ticket["ticket"]
    job = api.ok("POST", "/jobs/verification-email", 201, json={"user_id": alice})
    assert api.ok("GET", "/jobs/{id}", id=job["id"])["type"] == "verification_email"
    template = api.ok("GET", "/email-templates/{templateName}", templateName="verify_email")
    assert template["syntax"] == "liquid"
    api.ok("PATCH", "/email-templates/{templateName}", templateName="verify_email", json={"subject": "Verify {{ user.email }}"})
    api.ok("PUT", "/email-templates/{templateName}", templateName="reset_email",
           json={"template": "reset_email", "body": "<a href=\"{{ url }}\">Reset</a>", "subject": "Reset",
                 "syntax": "liquid", "enabled": True})
    api.ok("POST", "/email-templates", 200,
           json={"template": "welcome_email", "body": "<p>Welcome</p>", "subject": "Welcome", "syntax": "liquid",
                 "enabled": False})
    provider = {"name": "smtp", "enabled": False, "default_from_address": "no-reply@docs.example",
                "credentials": {"smtp_host": "127.0.0.1", "smtp_port": 2525, "smtp_user": "docs", "smtp_pass": "docs-pass"}}
    api.ok("POST", "/emails/provider", 201, json=provider)
    shown = api.ok("GET", "/emails/provider")
    assert "smtp_pass" not in shown["credentials"]
    api.ok("PATCH", "/emails/provider", json={"default_from_address": "team@docs.example"})
    api.ok("DELETE", "/emails/provider", 204)


def test_errors(api):
    status, body = api.call(
        "POST", "/users", json={"connection": CONNECTION, "email": "alice@example.com", "password": PASSWORD}
    )
    assert (status, body["errorCode"]) == (409, "auth0_idp_error")
    status, body = api.call("GET", "/users/{id}", id="auth0|000000000000000000000000")
    assert (status, body["errorCode"]) == (404, "inexistent_user")
    status, body = api.call("GET", "/users", params={"per_page": 51})
    assert (status, body["errorCode"]) == (400, "invalid_query_string")
    status, body = api.call("GET", "/roles", token=None)
    assert status == 401
    status, body = api.call("GET", "/clients", token="not-a-token")
    assert status == 401
    status, body = api.call("PATCH", "/roles/{id}", id="rol_missing", json={"name": "x"})
    assert (status, body["errorCode"]) == (404, "inexistent_role")


def test_users_deleted_last(api):
    alice = api.ok("GET", "/users", params={"q": 'email:"alice@example.com"'})[0]["user_id"]
    api.ok("DELETE", "/users/{id}", 204, id=alice)
    api.ok("DELETE", "/resource-servers/{id}", 204, id=API)


def test_every_operation_was_exercised(api, doc):
    listed = {(method, path) for path, item in doc["paths"].items() for method in item}
    assert listed - api.covered == set()
