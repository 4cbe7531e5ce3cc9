import { Socket } from "node:net";

/**
 * TCP connect probe of a database endpoint: healthy when the three-way handshake completes within the timeout.
 * It says the listener answers (the instance, its network path and its security group), not that the database
 * accepts queries; the runbook's pre-checks read RDS status before anything is promoted.
 */

export interface TcpCheck {
  ok: boolean;
  ms: number;
  detail: string;
}

export interface TcpProbePort {
  check(host: string, port: number, timeoutMs: number): Promise<TcpCheck>;
}

export interface TcpProbeOptions {
  now?: () => number;
  /** Replaces the socket (tests). */
  connect?: (host: string, port: number) => Socket;
}

/** A {@link TcpProbePort} on node:net: connect, then close at once (nothing is sent). */
export function tcpProbe(options: TcpProbeOptions = {}): TcpProbePort {
  const now = options.now ?? (() => performance.now());
  const open = options.connect ?? ((host: string, port: number) => new Socket().connect({ host, port }));
  return {
    check(host, port, timeoutMs) {
      const t0 = now();
      return new Promise<TcpCheck>((resolve) => {
        let settled = false;
        const socket = open(host, port);
        const done = (ok: boolean, why: string) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket.destroy();
          const ms = Math.round(now() - t0);
          resolve({ ok, ms, detail: `${host}:${port} ${why}${ok ? ` in ${ms} ms` : ""}` });
        };
        const timer = setTimeout(() => done(false, `no connection within ${timeoutMs} ms`), timeoutMs);
        socket.once("connect", () => done(true, "accepted the connection"));
        socket.once("error", (err: NodeJS.ErrnoException) => done(false, `connection failed: ${err.code ?? err.message}`));
      });
    },
  };
}
