/**
 * Standalone fake Twilio REST API: `npx tsx test/fakes/twilio/cli.ts [--port N] [--account-sid AC...] [--auth-token T]`.
 * Prints one JSON line `{"url", "control", "accountSid", "authToken"}` (test
 * credentials, generated unless given) and serves until SIGINT/SIGTERM.
 * Point the gateway at it with TWILIO_API_BASE_URL=<url> and the same credentials.
 */
import { parseArgs } from "node:util";
import { FakeTwilioApi } from "./fake-twilio-api.ts";

const { values } = parseArgs({
  options: { port: { type: "string" }, "account-sid": { type: "string" }, "auth-token": { type: "string" } },
  allowPositionals: false,
});
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid --port ${values.port}\n`);
  process.exit(2);
}
const fake = new FakeTwilioApi({
  ...(values["account-sid"] ? { accountSid: values["account-sid"] } : {}),
  ...(values["auth-token"] ? { authToken: values["auth-token"] } : {}),
});
const url = await fake.start(port);
process.stdout.write(
  `${JSON.stringify({ url, control: `${url}/control`, accountSid: fake.accountSid, authToken: fake.authToken })}\n`,
);
const stop = (): void => {
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
