/** `localauthority x509|jwt show|prepare|activate|taint|revoke` and `upstreamauthority taint|revoke` [LocalAuthority API] */
import type { AuthorityState } from "@signet/proto/spire/api/server/localauthority/v1/localauthority";
import { CliError, type Command, goUtcString, wrap } from "@signet/host-common";
import { apiCommand, type ApiContext } from "../command.js";
import { authorityResponse, authorityStateResponse, upstreamAuthorityResponse } from "../print/schemas.js";

type Kind = "x509" | "jwt";
const label = (k: Kind) => (k === "x509" ? "X.509" : "JWT");
const rpc = (k: Kind) => (k === "x509" ? "X509" : "Jwt");

export function formatAuthorityState(s: AuthorityState, kind: Kind): string {
  let out = `  Authority ID: ${s.authorityId}\n  Expires at: ${goUtcString(s.expiresAt)}\n`;
  if (kind === "jwt") return out;
  out += s.upstreamAuthoritySubjectKeyId !== ""
    ? `  Upstream authority Subject Key ID: ${s.upstreamAuthoritySubjectKeyId}\n`
    : "  Upstream authority ID: No upstream authority\n";
  return out;
}

function showCommand(kind: Kind): Command {
  return apiCommand({
    name: `localauthority ${kind} show`,
    synopsis: `Shows the local ${label(kind)} authorities`,
    define() {
      return async ({ env, client, printer }) => {
        const call = kind === "x509" ? client.localAuthority.getX509AuthorityState : client.localAuthority.getJwtAuthorityState;
        let resp;
        try {
          resp = await call({});
        } catch (e) {
          throw wrap(`could not get ${label(kind)} authorities`, e);
        }
        await printer.proto(authorityStateResponse, resp, (r) => {
          const slot = (title: string, s: AuthorityState | undefined, none: string) =>
            `${title} ${label(kind)} authority:\n${s ? formatAuthorityState(s, kind) : `  No ${none} ${label(kind)} authority found\n`}`;
          env.stdout(`${slot("Active", r.active, "active")}\n${slot("Prepared", r.prepared, "prepared")}\n${slot("Old", r.old, "old")}`);
        });
      };
    },
  });
}

type Verb = "prepare" | "activate" | "taint" | "revoke";
const synopses: Record<Kind, Record<Verb, string>> = {
  x509: {
    prepare: "Prepares a new X.509 authority for use by generating a new key and injecting the resulting CA certificate into the bundle",
    activate:
      "Activates a prepared X.509 authority for use, which will cause it to be used for all X.509 signing operations serviced by this server going forward",
    taint: "Marks the previously active X.509 authority as being tainted",
    revoke: "Revokes the previously active X.509 authority by removing it from the bundle and propagating this update throughout the cluster",
  },
  jwt: {
    prepare: "Prepares a new JWT authority for use by generating a new key and injecting it into the bundle",
    activate:
      "Activates a prepared JWT authority for use, which will cause it to be used for all JWT signing operations serviced by this server going forward",
    taint: "Marks the previously active JWT authority as being tainted",
    revoke: "Revokes the previously active JWT authority by removing it from the bundle and propagating this update throughout the cluster",
  },
};
const past: Record<Verb, string> = { prepare: "Prepared", activate: "Activated", taint: "Tainted", revoke: "Revoked" };
const field: Record<Verb, [string, string]> = {
  prepare: ["prepared_authority", "preparedAuthority"],
  activate: ["activated_authority", "activatedAuthority"],
  taint: ["tainted_authority", "taintedAuthority"],
  revoke: ["revoked_authority", "revokedAuthority"],
};

function verbCommand(kind: Kind, verb: Verb): Command {
  return apiCommand({
    name: `localauthority ${kind} ${verb}`,
    synopsis: synopses[kind][verb],
    define(fs) {
      const authorityID =
        verb === "prepare" ? undefined : fs.string("authorityID", "", `The authority ID of the ${label(kind)} authority to ${verb}`);
      return async ({ env, client, printer }: ApiContext) => {
        if (authorityID && authorityID.value === "") throw new CliError("an authority ID is required");
        const method = `${verb}${rpc(kind)}Authority` as const;
        const call = client.localAuthority[method] as unknown as (req: object) => Promise<Record<string, AuthorityState | undefined>>;
        let resp;
        try {
          resp = await call(authorityID ? { authorityId: authorityID.value } : {});
        } catch (e) {
          throw wrap(`could not ${verb} ${label(kind)} authority`, e);
        }
        const [name, key] = field[verb];
        await printer.proto(authorityResponse(name, key), resp, (r) => {
          env.stdout(`${past[verb]} ${label(kind)} authority:\n`);
          const state = r[key];
          if (!state) throw new CliError(`internal error: expected to have ${past[verb].toLowerCase()} ${label(kind)} authority information`);
          env.stdout(formatAuthorityState(state, kind));
        });
      };
    },
  });
}

export const localAuthorityCommands: Command[] = (["x509", "jwt"] as const).flatMap((kind) => [
  showCommand(kind),
  ...(["prepare", "activate", "taint", "revoke"] as const).map((verb) => verbCommand(kind, verb)),
]);

function upstreamCommand(verb: "taint" | "revoke"): Command {
  const synopsis =
    verb === "taint"
      ? "Marks the provided X.509 upstream authority as being tainted"
      : "Revokes the previously active X.509 upstream authority by removing it from the bundle and propagating this update throughout the cluster";
  const flagUsage =
    verb === "taint"
      ? "The X.509 Subject Key Identifier (or SKID) of the authority's CA certificate of the upstream X.509 authority to taint"
      : "The X.509 Subject Key Identifier (or SKID) of the authority's CA certificate of the X.509 upstream authority to revoke";
  return apiCommand({
    name: `upstreamauthority ${verb}`,
    synopsis,
    define(fs) {
      const subjectKeyID = fs.string("subjectKeyID", "", flagUsage);
      return async ({ env, client, printer }) => {
        if (subjectKeyID.value === "") throw new CliError("the Subject Key ID of the X.509 upstream authority is required");
        const call = verb === "taint" ? client.localAuthority.taintX509UpstreamAuthority : client.localAuthority.revokeX509UpstreamAuthority;
        let resp;
        try {
          resp = await call({ subjectKeyId: subjectKeyID.value });
        } catch (e) {
          throw wrap(`could not ${verb} X.509 upstream authority`, e);
        }
        await printer.proto(upstreamAuthorityResponse, resp, (r) =>
          env.stdout(`${verb === "taint" ? "Tainted" : "Revoked"} X.509 upstream authority:\n  Subject Key ID: ${r.upstreamAuthoritySubjectKeyId}\n`),
        );
      };
    },
  });
}

export const upstreamAuthorityCommands: Command[] = [upstreamCommand("taint"), upstreamCommand("revoke")];
