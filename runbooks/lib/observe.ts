import type { ObserveMarkerPort } from "../../adapters/observe-marker.ts";
import { type ObserveSetting, type ObserveState, observeMarker, observeState } from "../../core/observe.ts";

/**
 * Observe mode at `now` for one run (the decision: core/observe.ts). The marker is read only when the setting counts
 * days from the stage's first run, so `observe: false` or `{ "until": … }` costs no call; it is written only when
 * `record` says this run acts (a dry-run, a read-only plan or a refused request records nothing) and none is there.
 */
export async function resolveObserve(opts: {
  setting: ObserveSetting;
  timeZone: string;
  now: Date;
  /** Absent: nothing is read or recorded, and a window of days counts from `now` (as on a new stage). */
  marker: (() => ObserveMarkerPort) | undefined;
  record: boolean;
  by: string;
  runId: string;
}): Promise<ObserveState> {
  const { setting, timeZone, now } = opts;
  const counted = setting !== false && "days" in setting && setting.days > 0;
  if (!counted || !opts.marker) return observeState({ setting, start: undefined, now, timeZone });
  const port = opts.marker();
  let start = await port.read();
  const state = observeState({ setting, start, now, timeZone });
  if (!state.recordStart || !opts.record) return state;
  start = await port.record(observeMarker(now, opts.by, opts.runId));
  return observeState({ setting, start, now, timeZone });
}
