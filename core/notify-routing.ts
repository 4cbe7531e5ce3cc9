/**
 * Where a message goes: a pure decision from what the message is (its kind and severity, whether its run changed
 * or failed something) and the `notifications` config to the destinations it is delivered to, each with a reason.
 *
 * Destinations, each its own secret or resource (stacks/main.ts):
 * - `pager`: the SNS topic a pager (PagerDuty, Opsgenie, email) subscribes to; criticals only, so nobody is woken
 *   by a reminder or a summary;
 * - `alerts-slack`: the alerts channel (secret `SlackAlertsWebhookUrl`): criticals, reminders and "resolved";
 * - `cost-slack`: the cost channel (secret `SlackCostWebhookUrl`): cost digests and spike alerts;
 * - `runs-slack`: the run summaries channel (secret `SlackWebhookUrl`, the one secret a stage must set).
 *
 * A channel secret that is not set falls back to `SlackWebhookUrl` when it is read (runbooks/lib/resources.ts),
 * so a stage with one secret gets every Slack message in one channel, as before routing existed.
 */

export type MessageKind =
  /** An alert lifecycle message (stale backups, ...): `started` is critical, `reminder` a warning, `resolved` info. */
  | "alert"
  /** A run that threw or finished with failures: its short failure alert. */
  | "run-failed"
  /** The one summary a run posts when it finishes. */
  | "run-summary"
  /** The cost function's daily digest (and its spike alerts, critical). */
  | "cost-digest";

export type Severity = "critical" | "warning" | "info";

export type Destination = "pager" | "alerts-slack" | "cost-slack" | "runs-slack";

/**
 * The placeholder of the per-channel secrets (stacks/notifications.ts `new sst.Secret(name, UNSET_SECRET)`): SST
 * deploys a secret that was never set with its placeholder as its value (https://sst.dev/docs/component/secret), so a
 * stage needs no value for them, and a channel whose secret still holds it posts to `SlackWebhookUrl` instead.
 */
export const UNSET_SECRET = "unset: falls back to SlackWebhookUrl";

export const DESTINATIONS: readonly Destination[] = ["pager", "alerts-slack", "cost-slack", "runs-slack"];

export interface MessageRouteInput {
  kind: MessageKind;
  severity: Severity;
  /** The run changed something (created, copied, pruned, promoted, ...). Unknown counts as changed. */
  changed?: boolean;
  /** The run failed items (a summary of a run with failures is never quiet). */
  failed?: boolean;
}

/** The `notifications` config section (schemas/config-notifications.ts), as routing reads it. */
export interface RoutingConfig {
  pager: { enabled: boolean };
  runSummaries: { quiet: boolean };
}

export interface Route {
  destination: Destination;
  reason: string;
}

/**
 * The destinations of one message, in {@link DESTINATIONS} order, each once. An empty list means the message is
 * not sent (a quiet run summary), with no reason to give: the caller logs {@link quietReason} instead.
 *
 * @example
 *   routeMessage({ kind: "alert", severity: "critical" }, { pager: { enabled: true }, runSummaries: { quiet: false } })
 *   // → [{ destination: "pager", reason: "critical alert pages" }, { destination: "alerts-slack", reason: "alert goes to the alerts channel" }]
 */
export function routeMessage(input: MessageRouteInput, config: RoutingConfig): Route[] {
  const routes = new Map<Destination, string>();
  if (input.severity === "critical") {
    if (config.pager.enabled) routes.set("pager", `critical ${input.kind} pages`);
    routes.set("alerts-slack", `critical ${input.kind} goes to the alerts channel`);
  }
  switch (input.kind) {
    case "alert":
    case "run-failed":
      if (!routes.has("alerts-slack")) routes.set("alerts-slack", `${input.severity} ${input.kind} goes to the alerts channel`);
      break;
    case "cost-digest":
      routes.set("cost-slack", "cost digests go to the cost channel");
      break;
    case "run-summary":
      if (!isQuiet(input, config)) {
        routes.set(
          "runs-slack",
          config.runSummaries.quiet
            ? `run summary ${input.failed ? "of a run with failures" : "of a run that changed something"} (quiet)`
            : "run summaries go to the runs channel",
        );
      }
      break;
  }
  return DESTINATIONS.filter((d) => routes.has(d)).map((destination) => ({ destination, reason: routes.get(destination) as string }));
}

/** True when a run summary is dropped: quiet summaries and a run that neither failed nor changed anything. */
export function isQuiet(input: MessageRouteInput, config: RoutingConfig): boolean {
  return input.kind === "run-summary" && input.severity !== "critical" && config.runSummaries.quiet && input.failed !== true && input.changed === false;
}

/** Why a message has no destination (logged instead of sending it). */
export function quietReason(input: MessageRouteInput): string {
  return `${input.kind} of a run that changed nothing and failed nothing: not sent (notifications.runSummaries.quiet)`;
}

/** The severity of an alert lifecycle message: a new incident pages, a reminder and "resolved" do not. */
export function alertSeverity(kind: "started" | "reminder" | "resolved"): Severity {
  return kind === "started" ? "critical" : kind === "reminder" ? "warning" : "info";
}
