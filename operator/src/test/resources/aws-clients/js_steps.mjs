// An application that uses the AWS SDK for JavaScript v3 (@aws-sdk/client-secrets-manager) as AWS
// documents it, configured by the environment alone (AWS_CONTAINER_CREDENTIALS_FULL_URI,
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_REGION,
// NODE_EXTRA_CA_CERTS). Runs the steps of argv[2] ({name, op, params}) and prints one JSON line
// per step: the answer, or the exception the SDK threw (its class name and error code).
import * as sm from "@aws-sdk/client-secrets-manager";

const client = new sm.SecretsManagerClient({});
const plain = (value) =>
  JSON.parse(JSON.stringify(value, (k, v) => (k === "$metadata" ? undefined : v)));

for (const step of JSON.parse(process.argv[2])) {
  const out = { name: step.name };
  try {
    const command = new sm[`${step.op}Command`](step.params ?? {});
    out.result = plain(await client.send(command));
    out.ok = true;
  } catch (e) {
    Object.assign(out, {
      ok: false,
      exception: e.constructor?.name,
      code: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
      serviceException: e instanceof sm.SecretsManagerServiceException,
    });
  }
  console.log(JSON.stringify(out));
}
