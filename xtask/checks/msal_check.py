"""Signs in to the emulator with Microsoft's own MSAL for Python, over HTTPS.

Run by `cargo xtask msal-check`, which starts `graphlab tenant serve --tls
--unattended` and passes its URL and certificate. Checks the device code
flow, a silent refresh from MSAL's cache, and the auth code flow with PKCE;
MSAL validates the discovery document, the issuer and the ID token itself.
"""

import sys
import urllib.parse

import msal
import requests

base, ca = sys.argv[1], sys.argv[2]
CLI = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
app = msal.PublicClientApplication(CLI, authority=f"{base}/organizations", instance_discovery=False, verify=ca)

flow = app.initiate_device_flow(scopes=["User.Read", "Mail.Read"])
assert "user_code" in flow, flow
result = app.acquire_token_by_device_flow(flow)
assert "access_token" in result, result.get("error_description")
me = requests.get(f"{base}/v1.0/me", headers={"Authorization": "Bearer " + result["access_token"]}, verify=ca)
assert me.status_code == 200, me.text
print("msal device code flow: ok, /me =", me.json()["userPrincipalName"])

accounts = app.get_accounts()
assert [a["username"] for a in accounts] == ["admin@contoso.onmicrosoft.com"], accounts
silent = app.acquire_token_silent(["User.Read"], account=accounts[0], force_refresh=True)
assert silent and "access_token" in silent, silent
print("msal silent refresh: ok")

flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost:8400")
redirect = requests.get(flow["auth_uri"], verify=ca, allow_redirects=False).headers["location"]
answer = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(redirect).query))
result = app.acquire_token_by_auth_code_flow(flow, answer)
assert "access_token" in result, result.get("error_description")
print("msal auth code flow with PKCE: ok, id token for", result["id_token_claims"]["preferred_username"])
print(f"msal {msal.__version__} signed in to the emulator three ways over HTTPS")
