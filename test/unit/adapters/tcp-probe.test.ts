import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { tcpProbe } from "../../../adapters/tcp-probe.ts";

describe("TCP probe", () => {
  it("fails a connection that does not complete within the timeout, and closes the socket", async () => {
    let socket: Socket | undefined;
    let t = 0;
    const probe = tcpProbe({ now: () => (t += 50), connect: () => (socket = new Socket()) });
    const out = await probe.check("db.example.com", 5432, 30);
    expect(out).toEqual({ ok: false, ms: 50, detail: "db.example.com:5432 no connection within 30 ms" });
    expect(socket!.destroyed).toBe(true);
  });

  it("reports the error code of a refused connection", async () => {
    const probe = tcpProbe({ now: () => 0 });
    // Port 1 on the loopback: nothing listens there in a test environment.
    const out = await probe.check("127.0.0.1", 1, 2000);
    expect(out).toEqual({ ok: false, ms: 0, detail: "127.0.0.1:1 connection failed: ECONNREFUSED" });
  });
});
