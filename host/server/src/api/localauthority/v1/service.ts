/**
 * spire.api.server.localauthority.v1.LocalAuthority: the operator's view of
 * the CA's slots and the manual rotation flow (prepare → activate → taint →
 * revoke), with SPIRE's checks, codes and wording. Callers were authorized
 * (admin or local) by the endpoint layer. WIT-SVIDs are not implemented.
 */
import type { Logger } from "@signet/host-common";
import { type AsyncService, Code, type ServiceRegistration, implement } from "@signet/proto";
import {
  type AuthorityState,
  LocalAuthorityService,
} from "@signet/proto/spire/api/server/localauthority/v1/localauthority";
import { type BundleStore, revokeJwtAuthority, revokeX509Authority, taintJwtAuthority, taintX509Authority } from "../../../ca/bundle.js";
import type { CaManager } from "../../../ca/manager.js";
import type { SlotView } from "../../../ca/slot.js";
import { apiError } from "../../status.js";

/** The CA manager calls this API makes. */
export type LocalAuthorityManager = Pick<
  CaManager,
  | "currentJwtKeySlot"
  | "nextJwtKeySlot"
  | "prepareJwtKey"
  | "rotateJwtKey"
  | "isJwtSvidsDisabled"
  | "currentX509CaSlot"
  | "nextX509CaSlot"
  | "prepareX509Ca"
  | "rotateX509Ca"
  | "isUpstreamAuthority"
  | "notifyTaintedX509Authority"
>;

export interface LocalAuthorityDeps {
  readonly manager: LocalAuthorityManager;
  /** The trust domain's bundle, where taint and revoke take effect. */
  readonly bundle: BundleStore;
  readonly log?: Logger;
}

const jwtDisabled = "JWT functionality is disabled";
const witUnimplemented = "WIT-SVID functionality is not yet implemented";

/** The handlers, for hosting with `implement(LocalAuthorityService, …)` (tests use them directly). */
export function localAuthorityHandlers(deps: LocalAuthorityDeps): AsyncService<typeof LocalAuthorityService> {
  const { manager: ca, bundle } = deps;

  function requireJwt(): void {
    if (ca.isJwtSvidsDisabled()) throw apiError(Code.UNIMPLEMENTED, jwtDisabled);
  }

  function state(current: SlotView, next: SlotView) {
    if (current.status !== "ACTIVE") throw apiError(Code.UNAVAILABLE, "server is initializing");
    if (current.authorityId === "") throw apiError(Code.INTERNAL, "current slot does not contain authority ID");
    const out: { active: AuthorityState; prepared?: AuthorityState; old?: AuthorityState } = { active: stateFromSlot(current) };
    // A next slot with an authority ID was filled at some point.
    if (next.authorityId !== "") {
      if (next.status === "OLD") out.old = stateFromSlot(next);
      else if (next.status === "PREPARED") out.prepared = stateFromSlot(next);
      else deps.log?.error("Slot has an unknown status", { local_authority_id: next.authorityId });
    }
    return { active: out.active, prepared: out.prepared, old: out.old };
  }

  /** Activate: only the PREPARED next authority, named by its ID. */
  function checkActivatable(authorityId: string, next: SlotView): void {
    if (authorityId === "") throw apiError(Code.INVALID_ARGUMENT, "no authority ID provided");
    if (authorityId !== next.authorityId) throw apiError(Code.INVALID_ARGUMENT, "unexpected authority ID");
    if (next.status !== "PREPARED") {
      throw apiError(Code.INTERNAL, "only Prepared authorities can be activated", `unsupported local authority status: ${next.status}`);
    }
  }

  /** Taint: only the OLD next authority, never the current one. */
  function checkTaintable(authorityId: string, current: SlotView, next: SlotView): void {
    if (authorityId === "") throw apiError(Code.INVALID_ARGUMENT, "no authority ID provided");
    if (authorityId === current.authorityId) throw apiError(Code.INVALID_ARGUMENT, "unable to taint current local authority");
    if (authorityId !== next.authorityId) throw apiError(Code.INVALID_ARGUMENT, "unexpected authority ID");
    if (next.status !== "OLD") {
      throw apiError(Code.INVALID_ARGUMENT, "only Old local authorities can be tainted", `unsupported local authority status: ${next.status}`);
    }
  }

  /** RevokeJwtAuthority accepts the OLD next key or any other non-current key in the bundle. */
  async function jwtRevocationProblem(authorityId: string): Promise<string | undefined> {
    if (authorityId === "") return "no authority ID provided";
    const next = ca.nextJwtKeySlot();
    if (authorityId === next.authorityId) return next.status === "PREPARED" ? "unable to use a prepared key" : undefined;
    if (authorityId === ca.currentJwtKeySlot().authorityId) return "unable to use current authority";
    let stored;
    try {
      stored = await bundle.fetch();
    } catch (e) {
      return (e as Error).message;
    }
    if (stored?.jwtAuthorities.some((k) => k.keyId === authorityId)) return undefined;
    return "no JWT authority found with provided authority ID";
  }

  function x509RevocationProblem(authorityId: string): string | undefined {
    const next = ca.nextX509CaSlot();
    if (authorityId === "") return "no authority ID provided";
    if (authorityId === ca.currentX509CaSlot().authorityId) return "unable to use current authority";
    if (authorityId !== next.authorityId || next.status !== "OLD") return "only Old local authority can be revoked";
    return undefined;
  }

  function upstreamProblem(subjectKeyId: string): string | undefined {
    if (subjectKeyId === "") return "no subject key ID provided";
    if (subjectKeyId === ca.currentX509CaSlot().upstreamAuthorityId) return "unable to use upstream authority singing current authority";
    const next = ca.nextX509CaSlot();
    if (subjectKeyId !== next.upstreamAuthorityId) return "upstream authority didn't sign the old local authority";
    if (next.status === "PREPARED") return "only upstream authorities signing an old authority can be used";
    return undefined;
  }

  async function notifyTainted(authorityId: string): Promise<void> {
    try {
      await ca.notifyTaintedX509Authority(authorityId);
    } catch (e) {
      throw apiError(Code.INTERNAL, "failed to notify tainted authority", e);
    }
  }

  async function inBundle<T>(message: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      throw apiError(Code.INTERNAL, message, e);
    }
  }

  return {
    // ---- JWT ------------------------------------------------------------------------------
    async getJwtAuthorityState() {
      requireJwt();
      return state(ca.currentJwtKeySlot(), ca.nextJwtKeySlot());
    },

    async prepareJwtAuthority() {
      requireJwt();
      if (ca.currentJwtKeySlot().status !== "ACTIVE") throw apiError(Code.UNAVAILABLE, "server is initializing");
      try {
        await ca.prepareJwtKey();
      } catch (e) {
        throw apiError(Code.INTERNAL, "failed to prepare JWT authority", e);
      }
      const slot = ca.nextJwtKeySlot();
      return { preparedAuthority: authorityState(slot.authorityId, slot.notAfter) };
    },

    async activateJwtAuthority(req: { authorityId: string }) {
      requireJwt();
      checkActivatable(req.authorityId, ca.nextJwtKeySlot());
      await ca.rotateJwtKey();
      const current = ca.currentJwtKeySlot();
      return { activatedAuthority: authorityState(current.authorityId, current.notAfter) };
    },

    async taintJwtAuthority(req: { authorityId: string }) {
      requireJwt();
      const next = ca.nextJwtKeySlot();
      checkTaintable(req.authorityId, ca.currentJwtKeySlot(), next);
      await inBundle("failed to taint JWT authority", () => bundle.update((b) => taintJwtAuthority(b, next.authorityId)));
      deps.log?.info("JWT authority tainted successfully", { local_authority_id: next.authorityId });
      return { taintedAuthority: authorityState(next.authorityId) };
    },

    async revokeJwtAuthority(req: { authorityId: string }) {
      requireJwt();
      const problem = await jwtRevocationProblem(req.authorityId);
      if (problem) throw apiError(Code.INVALID_ARGUMENT, "invalid authority ID", problem);
      await inBundle("failed to revoke JWT authority", () => bundle.update((b) => revokeJwtAuthority(b, req.authorityId)));
      deps.log?.info("JWT authority revoked successfully", { local_authority_id: req.authorityId });
      return { revokedAuthority: authorityState(req.authorityId) };
    },

    // ---- X.509 --------------------------------------------------------------------------
    async getX509AuthorityState() {
      return state(ca.currentX509CaSlot(), ca.nextX509CaSlot());
    },

    async prepareX509Authority() {
      if (ca.currentX509CaSlot().status !== "ACTIVE") throw apiError(Code.UNAVAILABLE, "server is initializing");
      try {
        await ca.prepareX509Ca();
      } catch (e) {
        throw apiError(Code.INTERNAL, "failed to prepare X.509 authority", e);
      }
      return { preparedAuthority: stateFromSlot(ca.nextX509CaSlot()) };
    },

    async activateX509Authority(req: { authorityId: string }) {
      checkActivatable(req.authorityId, ca.nextX509CaSlot());
      await ca.rotateX509Ca();
      return { activatedAuthority: stateFromSlot(ca.currentX509CaSlot()) };
    },

    async taintX509Authority(req: { authorityId: string }) {
      if (ca.isUpstreamAuthority()) {
        throw apiError(Code.FAILED_PRECONDITION, "local authority can't be tainted if there is an upstream authority");
      }
      const next = ca.nextX509CaSlot();
      checkTaintable(req.authorityId, ca.currentX509CaSlot(), next);
      await inBundle("failed to taint X.509 authority", () => bundle.update((b) => taintX509Authority(b, next.authorityId)));
      const tainted = stateFromSlot(next);
      await notifyTainted(next.authorityId);
      deps.log?.info("X.509 authority tainted successfully", { local_authority_id: next.authorityId });
      return { taintedAuthority: tainted };
    },

    async taintX509UpstreamAuthority(req: { subjectKeyId: string }) {
      if (!ca.isUpstreamAuthority()) throw apiError(Code.FAILED_PRECONDITION, "upstream authority is not configured");
      const subjectKeyId = req.subjectKeyId.toLowerCase();
      const problem = upstreamProblem(subjectKeyId);
      if (problem) throw apiError(Code.INVALID_ARGUMENT, "provided subject key id is not valid", problem);
      await inBundle("failed to taint upstream authority", () => bundle.update((b) => taintX509Authority(b, subjectKeyId)));
      await notifyTainted(subjectKeyId);
      deps.log?.info("X.509 upstream authority tainted successfully", { subject_key_id: subjectKeyId });
      return { upstreamAuthoritySubjectKeyId: subjectKeyId };
    },

    async revokeX509Authority(req: { authorityId: string }) {
      if (ca.isUpstreamAuthority()) {
        throw apiError(Code.FAILED_PRECONDITION, "local authority can't be revoked if there is an upstream authority");
      }
      const problem = x509RevocationProblem(req.authorityId);
      if (problem) throw apiError(Code.INVALID_ARGUMENT, "invalid authority ID", problem);
      await inBundle("failed to revoke X.509 authority", () => bundle.update((b) => revokeX509Authority(b, req.authorityId)));
      deps.log?.info("X.509 authority revoked successfully", { local_authority_id: req.authorityId });
      return { revokedAuthority: authorityState(req.authorityId) };
    },

    async revokeX509UpstreamAuthority(req: { subjectKeyId: string }) {
      if (!ca.isUpstreamAuthority()) throw apiError(Code.FAILED_PRECONDITION, "upstream authority is not configured");
      const subjectKeyId = req.subjectKeyId.toLowerCase();
      const problem = upstreamProblem(subjectKeyId);
      if (problem) throw apiError(Code.INVALID_ARGUMENT, "invalid subject key ID", problem);
      await inBundle("failed to revoke X.509 upstream authority", () => bundle.update((b) => revokeX509Authority(b, subjectKeyId)));
      deps.log?.info("X.509 upstream authority successfully revoked", { subject_key_id: subjectKeyId });
      return { upstreamAuthoritySubjectKeyId: subjectKeyId };
    },

    // ---- WIT (not implemented, as in SPIRE) ------------------------------------------------
    async getWitAuthorityState(): Promise<never> {
      throw apiError(Code.UNIMPLEMENTED, witUnimplemented);
    },
    async prepareWitAuthority(): Promise<never> {
      throw apiError(Code.UNIMPLEMENTED, witUnimplemented);
    },
    async activateWitAuthority(): Promise<never> {
      throw apiError(Code.UNIMPLEMENTED, witUnimplemented);
    },
    async taintWitAuthority(): Promise<never> {
      throw apiError(Code.UNIMPLEMENTED, witUnimplemented);
    },
    async revokeWitAuthority(): Promise<never> {
      throw apiError(Code.UNIMPLEMENTED, witUnimplemented);
    },
  };
}

/** The LocalAuthority service, ready to add to the server's admin endpoint. */
export function localAuthorityService(deps: LocalAuthorityDeps): ServiceRegistration {
  return implement(LocalAuthorityService, localAuthorityHandlers(deps));
}

function stateFromSlot(slot: SlotView): AuthorityState {
  return authorityState(slot.authorityId, slot.notAfter, slot.upstreamAuthorityId);
}

function authorityState(authorityId: string, notAfter?: Date, upstreamAuthoritySubjectKeyId = ""): AuthorityState {
  return {
    authorityId,
    expiresAt: notAfter ? BigInt(Math.floor(notAfter.getTime() / 1000)) : 0n,
    upstreamAuthoritySubjectKeyId,
  };
}
