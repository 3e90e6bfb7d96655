/**
 * A Google Cloud service account key file (the JSON `gcloud iam
 * service-accounts keys create` writes), with a freshly made RSA key, for
 * clients that read credentials from a file (google-auth-library). Nothing
 * checks the key: against the fake Cloud KMS the client sends no tokens; the
 * file supplies the account's email, as a real one does.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export function writeServiceAccountFile(dir: string, email = "signet-server@signet-test.iam.gserviceaccount.com"): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const path = join(dir, "service-account.json");
  const project = email.split("@")[1]?.split(".")[0] ?? "signet-test";
  writeFileSync(
    path,
    JSON.stringify({
      type: "service_account",
      project_id: project,
      private_key_id: randomBytes(20).toString("hex"),
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: email,
      client_id: "100000000000000000001",
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: "https://oauth2.googleapis.com/token",
    }),
    { mode: 0o600 },
  );
  return path;
}
