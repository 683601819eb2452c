"""Sends one HTTPS request signed by botocore's own SigV4 signer, with the credentials that the
container-credentials provider fetched (AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE), and prints {"status", "body"} as JSON.

usage: botocore_sign.py METHOD URL [BODY]
"""
import json
import ssl
import sys
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.session

method, url = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else b""
session = botocore.session.get_session()
credentials = session.get_credentials().get_frozen_credentials()
request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body)
botocore.auth.SigV4Auth(credentials, "secretsmanager", session.get_config_variable("region")).add_auth(request)
prepared = request.prepare()
context = ssl.create_default_context(cafile=__import__("os").environ["AWS_CA_BUNDLE"])
http = urllib.request.Request(url, data=body or None, method=method, headers=dict(prepared.headers.items()))
try:
    with urllib.request.urlopen(http, context=context) as response:
        print(json.dumps({"status": response.status, "body": response.read().decode()}))
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code, "body": e.read().decode()}))
