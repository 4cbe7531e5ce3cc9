/**
 * The failover runbook's notifier: each message to the destinations its severity routes it to (core/notify-routing.ts,
 * kind `alert`): a critical to the pager topic and the alerts channel, anything else to the alerts channel.
 *
 * Each destination is tried even when another fails, and no failure is thrown: a pager or Slack outage must never
 * stop a failover. What did not go out is logged (never the webhook URL) and the failover carries on.
 */
import type { SlackMessage } from "../../core/report/blocks.ts";
import { routeMessage, type Destination, type RoutingConfig } from "../../core/notify-routing.ts";
import type { NotifyPort } from "./ports.ts";

export interface RoutedNotifyOptions {
  routing: RoutingConfig;
  /** Publish to the pager topic. */
  page(message: SlackMessage): Promise<void>;
  /** Post to the alerts channel. */
  postAlerts(message: SlackMessage): Promise<void>;
  log(message: string, data: Record<string, unknown>): void;
  /** A destination that failed (default: `log`). */
  error?(message: string, data: Record<string, unknown>): void;
}

/** The title line of a message, for logs. */
const firstLine = (m: SlackMessage): string => m.text.split("\n")[0] ?? "";

export function routedNotify(opts: RoutedNotifyOptions): NotifyPort {
  return {
    async notify(message, severity) {
      for (const r of routeMessage({ kind: "alert", severity }, opts.routing)) {
        const deliver: Partial<Record<Destination, (m: SlackMessage) => Promise<void>>> = { pager: opts.page, "alerts-slack": opts.postAlerts };
        const to = deliver[r.destination];
        if (!to) continue;
        try {
          await to(message);
          opts.log("failover message sent", { destination: r.destination, severity, reason: r.reason, text: firstLine(message) });
        } catch (err) {
          // SlackDeliveryError messages never contain the webhook URL; SNS errors carry no secret.
          (opts.error ?? opts.log)("failover message NOT delivered; the failover carries on", {
            destination: r.destination,
            severity,
            error: (err as Error).message,
            text: firstLine(message),
          });
        }
      }
    },
  };
}
