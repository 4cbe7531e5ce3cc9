// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";

/**
 * Configuration section `notifications`: where messages go (core/notify-routing.ts). Criticals page through the
 * stage's SNS topic and go to the alerts channel; cost digests to the cost channel; run summaries to the runs
 * channel. Every channel falls back to the `SlackWebhookUrl` secret when its own secret is not set, so the defaults
 * keep a stage with one secret working as before.
 */
export const NotificationsConfigSchema = z
  .object({
    pager: z
      .object({
        /** Publish criticals to the stage's SNS topic (a pager or an email subscribes to it). Default true. */
        enabled: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    runSummaries: z
      .object({
        /** Post a run's summary only when the run changed something or failed. Default false: every summary. */
        quiet: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type NotificationsConfig = z.output<typeof NotificationsConfigSchema>;
