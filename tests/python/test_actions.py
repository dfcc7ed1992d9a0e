"""Actions through the real auth0-python (4.9.0) `Actions` client.

A script written for Auth0: create the quickstart Actions (roles in tokens,
deny unverified users, a claim on M2M tokens), read them back, update one,
deploy them, list the triggers, bind them in order, read the flow, refuse a
syntax error at deploy, and delete one. Secret values never come back.
"""

import jwt
import pytest
from auth0.authentication import GetToken
from auth0.exceptions import Auth0Error
from auth0.management import Actions

SECRET = "py-secret-never-returned-9137"
ROLES = """exports.onExecutePostLogin = async (event, api) => {
  const ns = 'https://measurements.example/';
  api.accessToken.setCustomClaim(ns + 'roles', event.authorization.roles);
  api.idToken.setCustomClaim(ns + 'roles', event.authorization.roles);
};
"""
VERIFIED = """exports.onExecutePostLogin = async (event, api) => {
  if (!event.user.email_verified) api.access.deny('Please verify your email first.');
};
"""
M2M = """exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim('https://measurements.example/tier', 'gold');
};
"""


@pytest.fixture(scope="module")
def actions(gatehouse):
    creds = gatehouse.creds
    token = GetToken(
        gatehouse.domain,
        creds["management_client_id"],
        creds["management_client_secret"],
        protocol="http",
    ).client_credentials(creds["management_audience"])
    return Actions(gatehouse.domain, token["access_token"], protocol="http")


def post_login(name, code, secrets=()):
    return {
        "name": name,
        "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "code": code,
        "dependencies": [],
        "runtime": "node22",
        "secrets": list(secrets),
    }


def test_the_quickstart_actions_through_auth0_python(gatehouse, actions):
    roles = actions.create_action(post_login("Add roles", ROLES, [{"name": "API_KEY", "value": SECRET}]))
    assert roles["name"] == "Add roles"
    assert roles["secrets"][0]["name"] == "API_KEY"
    assert SECRET not in str(roles)
    verified = actions.create_action(post_login("Require verified email", VERIFIED))
    m2m = actions.create_action(
        {"name": "M2M tier", "supported_triggers": [{"id": "credentials-exchange", "version": "v2"}], "code": M2M}
    )

    got = actions.get_action(roles["id"])
    assert got["code"] == ROLES
    assert got["all_changes_deployed"] is False
    assert SECRET not in str(got)

    listed = actions.get_actions(trigger_id="post-login")
    assert listed["total"] == 2
    assert {a["name"] for a in listed["actions"]} == {"Add roles", "Require verified email"}
    assert actions.get_actions(deployed=True)["total"] == 0
    assert actions.get_actions(action_name="M2M tier")["actions"][0]["id"] == m2m["id"]

    updated = actions.update_action(roles["id"], {"name": "Roles in tokens", "secrets": [{"name": "API_KEY"}]})
    assert updated["name"] == "Roles in tokens"
    assert updated["secrets"][0]["name"] == "API_KEY"

    for action in (roles, verified, m2m):
        version = actions.deploy_action(action["id"])
        assert version["number"] == 1
        assert version["deployed"] is True
        assert SECRET not in str(version)
    assert actions.get_action(roles["id"])["all_changes_deployed"] is True

    triggers = actions.get_triggers()["triggers"]
    assert [t["id"] for t in triggers][:2] == ["post-login", "credentials-exchange"]
    assert triggers[0]["version"] == "v3"

    flow = actions.update_trigger_bindings(
        "post-login",
        {
            "bindings": [
                {"ref": {"type": "action_name", "value": "Require verified email"}, "display_name": "Verified"},
                {"ref": {"type": "action_id", "value": roles["id"]}},
            ]
        },
    )
    assert [b["action"]["name"] for b in flow["bindings"]] == ["Require verified email", "Roles in tokens"]
    actions.update_trigger_bindings(
        "credentials-exchange", {"bindings": [{"ref": {"type": "action_id", "value": m2m["id"]}}]}
    )
    bindings = actions.get_trigger_bindings("post-login")
    assert bindings["total"] == 2
    assert bindings["bindings"][0]["display_name"] == "Verified"
    assert SECRET not in str(bindings)
    assert actions.get_trigger_bindings("credentials-exchange")["bindings"][0]["action"]["id"] == m2m["id"]

    # The bound credentials-exchange Action adds its claim to the next M2M
    # token, which PyJWT verifies against the JWKS.
    creds = gatehouse.creds
    audience = creds["management_audience"]
    token = GetToken(
        gatehouse.domain,
        creds["management_client_id"],
        creds["management_client_secret"],
        protocol="http",
    ).client_credentials(audience)["access_token"]
    key = jwt.PyJWKClient(f"{gatehouse.base_url}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=gatehouse.issuer)
    assert claims["https://measurements.example/tier"] == "gold"


def test_refusals_in_auth0_errors(actions):
    broken = actions.create_action(post_login("Broken", "exports.onExecutePostLogin = async () => {\n  let x = ;\n};\n"))
    with pytest.raises(Auth0Error) as refused:
        actions.deploy_action(broken["id"])
    assert refused.value.status_code == 400
    assert "line 2" in refused.value.message

    with pytest.raises(Auth0Error) as refused:
        actions.update_trigger_bindings(
            "post-login", {"bindings": [{"ref": {"type": "action_id", "value": broken["id"]}}]}
        )
    assert refused.value.status_code == 400

    with pytest.raises(Auth0Error) as refused:
        actions.get_execution("exe_does_not_exist")
    assert refused.value.status_code == 404

    bound = actions.get_actions(action_name="Roles in tokens")["actions"][0]
    with pytest.raises(Auth0Error) as refused:
        actions.delete_action(bound["id"])
    assert refused.value.status_code == 409
    actions.delete_action(bound["id"], force=True)
    names = [b["action"]["name"] for b in actions.get_trigger_bindings("post-login")["bindings"]]
    assert names == ["Require verified email"]
    actions.delete_action(broken["id"])
    with pytest.raises(Auth0Error) as refused:
        actions.get_action(broken["id"])
    assert refused.value.status_code == 404

    # Leave the tenant's flows empty for the other suites.
    for trigger in ("post-login", "credentials-exchange"):
        actions.update_trigger_bindings(trigger, {"bindings": []})
