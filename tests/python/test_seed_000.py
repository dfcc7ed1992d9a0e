"""Seed 000 set up with the real auth0-python (4.9.0) against a fresh Gatehouse.

A script written for Auth0: client_credentials for the Management API, then an
API with RBAC and permissions in the token, an SPA, a role with a permission,
two users, the role assigned to one, lists with include_totals, read-backs;
finally user tokens through the password grant of a regular web app created
through the API, checked with PyJWT: the reader gets read:measurements in
`scope` and `permissions`, the other user gets neither.
"""

import jwt
import pytest
from auth0.authentication import GetToken
from auth0.exceptions import Auth0Error
from auth0.management import ClientGrants, Clients, ResourceServers, Roles, Users

API = "https://measurements.example/"
CONNECTION = "Username-Password-Authentication"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def mgmt(gatehouse):
    creds = gatehouse.creds
    token = GetToken(
        gatehouse.domain,
        creds["management_client_id"],
        creds["management_client_secret"],
        protocol="http",
    ).client_credentials(creds["management_audience"])
    assert token["token_type"] == "Bearer"
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["aud"] == creds["management_audience"]
    assert "create:users" in claims["scope"].split()
    kw = dict(protocol="http")
    at = token["access_token"]
    return {
        "apis": ResourceServers(gatehouse.domain, at, **kw),
        "clients": Clients(gatehouse.domain, at, **kw),
        "grants": ClientGrants(gatehouse.domain, at, **kw),
        "roles": Roles(gatehouse.domain, at, **kw),
        "users": Users(gatehouse.domain, at, **kw),
    }


@pytest.fixture(scope="module")
def scenario(gatehouse, mgmt):
    api = mgmt["apis"].create(
        {
            "name": "Measurements",
            "identifier": API,
            "scopes": [{"value": "read:measurements", "description": "Read measurements"}],
            "enforce_policies": True,
            "token_dialect": "access_token_authz",
            "signing_alg": "RS256",
        }
    )
    spa = mgmt["clients"].create(
        {
            "name": "Angular SPA",
            "app_type": "spa",
            "callbacks": ["http://localhost:4200/callback"],
            "web_origins": ["http://localhost:4200"],
            "allowed_logout_urls": ["http://localhost:4200"],
        }
    )
    web = mgmt["clients"].create(
        {
            "name": "Scripts",
            "app_type": "regular_web",
            "grant_types": ["password", "refresh_token"],
        }
    )
    role = mgmt["roles"].create({"name": "reader", "description": "Reads measurements"})
    mgmt["roles"].add_permissions(
        role["id"],
        [{"resource_server_identifier": API, "permission_name": "read:measurements"}],
    )
    users = {}
    for name in ("alice", "bob"):
        users[name] = mgmt["users"].create(
            {
                "connection": CONNECTION,
                "email": f"{name}@example.com",
                "password": PASSWORD,
                "email_verified": True,
                "name": name.capitalize(),
            }
        )
    mgmt["users"].add_roles(users["alice"]["user_id"], [role["id"]])
    return {"api": api, "spa": spa, "web": web, "role": role, "users": users}


def test_objects_have_auth0_shapes(scenario):
    assert scenario["api"]["identifier"] == API
    assert scenario["api"]["enforce_policies"] is True
    assert scenario["spa"]["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in scenario["spa"]
    assert scenario["web"]["client_secret"]
    assert scenario["role"]["id"].startswith("rol_")
    alice = scenario["users"]["alice"]
    assert alice["user_id"].startswith("auth0|")
    assert alice["identities"][0]["connection"] == CONNECTION


def test_lists_with_totals_and_read_back(mgmt, scenario):
    alice = scenario["users"]["alice"]
    page = mgmt["users"].list(include_totals=True, per_page=10)
    assert page["total"] == 3  # alice, bob and the bootstrap admin
    assert page["length"] == 3
    emails = {u["email"] for u in page["users"]}
    assert {"alice@example.com", "bob@example.com"} <= emails
    found = mgmt["users"].list(q='email:"alice@example.com"', search_engine="v3")
    assert [u["user_id"] for u in found["users"]] == [alice["user_id"]]
    assert mgmt["users"].get(alice["user_id"])["email"] == "alice@example.com"
    roles = mgmt["users"].list_roles(alice["user_id"])
    assert [r["name"] for r in roles["roles"]] == ["reader"]
    perms = mgmt["users"].list_permissions(alice["user_id"])
    assert [p["permission_name"] for p in perms["permissions"]] == ["read:measurements"]
    members = mgmt["roles"].list_users(scenario["role"]["id"])
    assert [u["email"] for u in members["users"]] == ["alice@example.com"]
    role_perms = mgmt["roles"].list_permissions(scenario["role"]["id"])
    assert role_perms["permissions"][0]["resource_server_name"] == "Measurements"
    role_list = mgmt["roles"].list()
    # The bootstrap's Admin role and the scenario's reader.
    assert role_list["total"] == 2
    assert sorted(r["name"] for r in role_list["roles"]) == ["Admin", "reader"]
    apis = mgmt["apis"].get_all(include_totals=True)
    assert apis["total"] == 2
    assert mgmt["apis"].get(scenario["api"]["id"])["name"] == "Measurements"
    spa = mgmt["clients"].get(scenario["spa"]["client_id"])
    assert spa["app_type"] == "spa"
    grants = mgmt["grants"].all(include_totals=True)
    assert grants["total"] == 1


def test_errors_come_back_as_auth0_errors(mgmt, scenario):
    with pytest.raises(Auth0Error) as err:
        mgmt["users"].create({"connection": CONNECTION, "email": "alice@example.com", "password": PASSWORD})
    assert err.value.status_code == 409
    assert err.value.error_code == "auth0_idp_error"
    assert err.value.message == "The user already exists."
    with pytest.raises(Auth0Error) as err:
        mgmt["users"].get("auth0|000000000000000000000000")
    assert err.value.status_code == 404
    assert err.value.error_code == "inexistent_user"


def user_token(gatehouse, scenario, email):
    web = scenario["web"]
    return GetToken(gatehouse.domain, web["client_id"], web["client_secret"], protocol="http").login(
        username=email,
        password=PASSWORD,
        realm=CONNECTION,
        audience=API,
        scope="openid profile email read:measurements",
    )


def verified_claims(gatehouse, access_token):
    jwks = jwt.PyJWKClient(f"{gatehouse.base_url}/.well-known/jwks.json")
    key = jwks.get_signing_key_from_jwt(access_token)
    return jwt.decode(access_token, key.key, algorithms=["RS256"], audience=API, issuer=gatehouse.issuer)


def test_reader_gets_scope_and_permission(gatehouse, scenario):
    token = user_token(gatehouse, scenario, "alice@example.com")
    claims = verified_claims(gatehouse, token["access_token"])
    assert "read:measurements" in claims["scope"].split()
    assert claims["permissions"] == ["read:measurements"]
    assert claims["sub"] == scenario["users"]["alice"]["user_id"]


def test_other_user_gets_neither(gatehouse, scenario):
    token = user_token(gatehouse, scenario, "bob@example.com")
    claims = verified_claims(gatehouse, token["access_token"])
    assert "read:measurements" not in claims["scope"].split()
    assert claims["permissions"] == []
