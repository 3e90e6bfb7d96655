import { describe, expect, it } from "vitest";
import { Slot, activationThreshold, jwtKeyKmKeyId, maxSvidTtlSecondsForCaTtl, otherSlotId, preparationThreshold, x509CaKmKeyId } from "./slot.js";

const h = 3600_000;
const day = 24 * h;
const t0 = new Date(Date.UTC(2026, 0, 1));
const at = (ms: number) => new Date(t0.getTime() + ms);

describe("rotation timing", () => {
  it("24 h CA: prepare 12 h before expiry, activate 4 h before", () => {
    expect(preparationThreshold(t0, at(day))).toEqual(at(12 * h));
    expect(activationThreshold(t0, at(day))).toEqual(at(20 * h));
  });

  it("long-lived CAs are capped at 30 d and 7 d before expiry", () => {
    const notAfter = at(365 * day);
    expect(preparationThreshold(t0, notAfter)).toEqual(at(335 * day));
    expect(activationThreshold(t0, notAfter)).toEqual(at(358 * day));
    expect(maxSvidTtlSecondsForCaTtl(86400)).toBe(4 * 3600);
    expect(maxSvidTtlSecondsForCaTtl(365 * 86400)).toBe(7 * 86400);
  });

  it("a slot asks for the next authority strictly after each threshold", () => {
    const slot = new Slot<{ notAfter: Date }>("x509-ca", "A");
    expect(slot.shouldPrepareNext(at(23 * h))).toBe(false); // empty X.509 slot
    slot.fill({ notAfter: at(day) }, t0, "id", "");
    expect(slot.shouldPrepareNext(at(12 * h))).toBe(false);
    expect(slot.shouldPrepareNext(at(12 * h + 1))).toBe(true);
    expect(slot.shouldActivateNext(at(20 * h))).toBe(false);
    expect(slot.shouldActivateNext(at(20 * h + 1))).toBe(true);
    expect(new Slot("jwt-key", "B").shouldPrepareNext(t0)).toBe(true); // empty JWT slot wants a key
  });

  it("reset retires a slot but keeps its ids for the API", () => {
    const slot = new Slot<{ notAfter: Date }>("jwt-key", "B");
    expect(slot.isEmpty).toBe(true);
    slot.fill({ notAfter: at(day) }, t0, "kid", "");
    expect(slot).toMatchObject({ isEmpty: false, status: "PREPARED", authorityId: "kid" });
    slot.reset();
    expect(slot).toMatchObject({ isEmpty: true, status: "OLD", authorityId: "kid" });
  });

  it("uses SPIRE's KeyManager key ids", () => {
    expect([x509CaKmKeyId("A"), x509CaKmKeyId("B"), jwtKeyKmKeyId("A"), jwtKeyKmKeyId("B")]).toEqual(["x509-CA-A", "x509-CA-B", "JWT-Signer-A", "JWT-Signer-B"]);
    expect(new Slot("x509-ca", "B").kmKeyId).toBe("x509-CA-B");
    expect(otherSlotId("A")).toBe("B");
  });
});
