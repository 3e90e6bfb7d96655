import { afterEach, describe, expect, it } from "vitest";
import { HealthListener } from "./health-listener.js";

let listener: HealthListener | undefined;
afterEach(async () => {
  await listener?.stop();
  listener = undefined;
});

describe("HealthListener", () => {
  it("answers live and ready with 200/500 and the details as JSON, 404 elsewhere", async () => {
    let ready = false;
    listener = new HealthListener(
      { bindAddress: "127.0.0.1", bindPort: 0, livePath: "/live", readyPath: "/ready" },
      { live: () => ({ ok: true, details: { started: true } }), ready: async () => ({ ok: ready, details: { bundle: ready } }) },
    );
    await listener.start();
    const base = `http://127.0.0.1:${listener.port}`;
    const live = await fetch(`${base}/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ started: true });
    const notReady = await fetch(`${base}/ready`);
    expect(notReady.status).toBe(500);
    expect(await notReady.json()).toEqual({ bundle: false });
    ready = true;
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect((await fetch(`${base}/other`)).status).toBe(404);
  });

  it("reports a failing check as 500 with its error", async () => {
    listener = new HealthListener(
      { bindAddress: "127.0.0.1", bindPort: 0, livePath: "/live", readyPath: "/ready" },
      { live: () => { throw new Error("boom"); }, ready: () => ({ ok: true }) },
    );
    await listener.start();
    const res = await fetch(`http://127.0.0.1:${listener.port}/live`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "boom" });
  });
});
