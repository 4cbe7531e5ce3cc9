/**
 * `npm run html-screenshot`: renders out/drill-report.html (from `npm run drill -- --html`) in headless Chromium
 * and saves out/drill-report.png, so a person can check the pictures look right. Not part of `npm test`: it needs
 * Debian's `chromium` (`apt-get install -y chromium`). Options: `--html <file>`, `--png <file>`, `--width <px>`,
 * `--height <px>` (the screenshot is the window; the default fits the drill's report).
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const html = resolve(option("html", join(root, "out", "drill-report.html")));
const png = resolve(option("png", join(root, "out", "drill-report.png")));
const width = Number(option("width", "1280"));
const height = Number(option("height", "2450"));

if (!existsSync(html)) {
  console.error(`${relative(process.cwd(), html)} not found: run \`npm run drill -- --html\` first`);
  process.exit(2);
}
const browser = ["chromium", "chromium-browser", "google-chrome"].find((b) => spawnSync("which", [b]).status === 0);
if (!browser) {
  console.error("no Chromium found: on Debian, `apt-get install -y chromium`");
  process.exit(2);
}
const run = spawnSync(
  browser,
  [
    "--headless",
    // Running as root in a container: Chromium refuses its sandbox there.
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    // The report fetches nothing; keep the browser from trying anyway.
    "--no-first-run",
    "--disable-background-networking",
    `--window-size=${width},${height}`,
    `--screenshot=${png}`,
    pathToFileURL(html).href,
  ],
  { encoding: "utf8", timeout: 120_000 },
);
if (run.status !== 0 || !existsSync(png)) {
  console.error(`${browser} failed (status ${run.status}${run.error ? `, ${run.error.message}` : ""}):\n${run.stderr}`);
  process.exit(1);
}
console.log(`${relative(process.cwd(), png)}: ${statSync(png).size} bytes (${width}×${height} px, from ${relative(process.cwd(), html)})`);
