"""What an application does with boto3, unchanged but for the endpoint and the credential: it
talks to Keywarden's AWS Secrets Manager protocol with a Bearer ServiceAccount token (SigV4 comes
with issue #14 item 2). Prints one JSON object of what each call answered; AwsProtocolIT checks it.

Environment: KW_ENDPOINT, KW_CA (PEM file), KW_TOKEN, KW_SECRET (a SecretId the token may read and
update), KW_DENIED (a SecretId it may not read).
"""
import json
import os
import uuid

import boto3
import botocore.exceptions


def bearer(request, **_):
    request.headers["Authorization"] = "Bearer " + os.environ["KW_TOKEN"]


client = boto3.client(
    "secretsmanager",
    endpoint_url=os.environ["KW_ENDPOINT"],
    verify=os.environ["KW_CA"],
    region_name="eu-west-1",
    aws_access_key_id="unused",
    aws_secret_access_key="unused",
)
client.meta.events.register("before-send.secrets-manager.*", bearer)
secret = os.environ["KW_SECRET"]
out = {}

got = client.get_secret_value(SecretId=secret)
out["get"] = {
    "SecretString": got["SecretString"],
    "VersionId": got["VersionId"],
    "VersionStages": got["VersionStages"],
    "CreatedDateType": type(got["CreatedDate"]).__name__,
}
described = client.describe_secret(SecretId=secret)
out["describe"] = {
    "ARN": described["ARN"],
    "VersionIdsToStages": described["VersionIdsToStages"],
}
token = str(uuid.uuid4())
value = "boto3-" + str(uuid.uuid4())
put = client.put_secret_value(SecretId=described["ARN"], SecretString=value, ClientRequestToken=token)
again = client.put_secret_value(SecretId=secret, SecretString=value, ClientRequestToken=token)
out["put"] = {"token": token, "value": value, "first": put["VersionId"], "again": again["VersionId"]}
try:
    client.put_secret_value(SecretId=secret, SecretString=value + "-other", ClientRequestToken=token)
    out["conflict"] = "accepted"
except client.exceptions.ResourceExistsException as e:
    out["conflict"] = e.response["Error"]["Code"]
out["previous"] = client.get_secret_value(SecretId=secret, VersionStage="AWSPREVIOUS")["VersionId"]
out["versions"] = [
    v["VersionId"] for v in client.list_secret_version_ids(SecretId=secret)["Versions"]
]
names = []
for page in client.get_paginator("list_secrets").paginate(
    Filters=[{"Key": "name", "Values": [secret.split("/")[0] + "/"]}], PaginationConfig={"PageSize": 1}
):
    names += [s["Name"] for s in page["SecretList"]]
out["listed"] = names
batch = client.batch_get_secret_value(SecretIdList=[secret, os.environ["KW_DENIED"]])
out["batch"] = {
    "values": [v["Name"] for v in batch["SecretValues"]],
    "errors": [e["ErrorCode"] for e in batch["Errors"]],
}
for name, call in [
    ("denied", lambda: client.get_secret_value(SecretId=os.environ["KW_DENIED"])),
    ("missing", lambda: client.get_secret_value(SecretId=secret, VersionStage="AWSPENDING")),
    ("created", lambda: client.create_secret(Name="new", SecretString="x")),
]:
    try:
        call()
        out[name] = "accepted"
    except botocore.exceptions.ClientError as e:
        out[name] = e.response["Error"]["Code"]
print(json.dumps(out))
