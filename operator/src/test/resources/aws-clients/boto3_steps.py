"""An application that uses boto3 as AWS documents it, configured by the environment alone
(AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_REGION, AWS_DEFAULT_REGION, AWS_CA_BUNDLE; or static
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN). It runs the steps given as a JSON
array in argv[1] ({"name", "op", "params"}; op "cache.get_secret_string" uses AWS's
aws-secretsmanager-caching) and prints one JSON line per step: the answer, or the exception boto3
raised (class name and the error code).
"""
import datetime
import json
import re
import sys

import boto3
import botocore.exceptions

client = None
cache = None


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


for step in json.loads(sys.argv[1]):
    out = {"name": step["name"]}
    try:
        if client is None:
            # Credentials are resolved here, so a failing credentials call is this step's error.
            client = boto3.client("secretsmanager")
        if step["op"] == "cache.get_secret_string":
            if cache is None:
                from aws_secretsmanager_caching import SecretCache, SecretCacheConfig

                cache = SecretCache(config=SecretCacheConfig(), client=client)
            out["result"] = {"SecretString": cache.get_secret_string(**step.get("params", {}))}
        else:
            method = re.sub(r"(?<!^)(?=[A-Z])", "_", step["op"]).lower()
            out["result"] = plain(getattr(client, method)(**step.get("params", {})))
        out["ok"] = True
    except botocore.exceptions.ClientError as e:
        out.update(ok=False, exception=type(e).__name__, code=e.response["Error"]["Code"],
                   message=e.response["Error"].get("Message", ""),
                   status=e.response["ResponseMetadata"].get("HTTPStatusCode"))
    except botocore.exceptions.BotoCoreError as e:
        out.update(ok=False, exception=type(e).__name__, code=None, message=str(e))
    print(json.dumps(out), flush=True)
