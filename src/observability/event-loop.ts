/**
 * nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds with prom-client's names and
 * meaning (the event-loop delay over the window since the previous scrape), but never NaN.
 *
 * WHY our own: prom-client resets its monitorEventLoopDelay histogram at every scrape and reports
 * whatever it holds. A scrape that comes before the histogram's next sample (two scrapers, or a
 * scrape right after the previous one) finds it empty: mean and stddev are NaN, min is 2^63 ns
 * (9.2e9 s). Here an empty window repeats the last window's figures instead — the delay has not
 * been measured again, so the last measurement is still the best one — and the histogram is only
 * reset after it was read with samples in it.
 *
 * And net of the sampling period: on Node 20 each sample is the whole time between two ticks of
 * the monitor's timer (measured on an idle loop: min 100.1 ms, p50 100.2 ms at a 100 ms
 * resolution), so prom-client's gauges read ~0.1 s on an idle daemon. The delay is what
 * exceeds the period; we subtract it (never below 0). The standard deviation is unaffected.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** The gauges prom-client's collectDefaultMetrics registers from its own histogram, which we replace. */
export const EVENT_LOOP_DELAY_METRICS = {
  min: 'nodejs_eventloop_lag_min_seconds',
  max: 'nodejs_eventloop_lag_max_seconds',
  mean: 'nodejs_eventloop_lag_mean_seconds',
  stddev: 'nodejs_eventloop_lag_stddev_seconds',
  p50: 'nodejs_eventloop_lag_p50_seconds',
  p90: 'nodejs_eventloop_lag_p90_seconds',
  p99: 'nodejs_eventloop_lag_p99_seconds',
} as const;

type Stat = keyof typeof EVENT_LOOP_DELAY_METRICS;

const HELP: Record<Stat, string> = {
  min: 'The minimum recorded event loop delay since the previous scrape (the last measured window when none was recorded since).',
  max: 'The maximum recorded event loop delay since the previous scrape (the last measured window when none was recorded since).',
  mean: 'The mean of the recorded event loop delays since the previous scrape (the last measured window when none was recorded since).',
  stddev: 'The standard deviation of the recorded event loop delays since the previous scrape (the last measured window when none was recorded since).',
  p50: 'The 50th percentile of the recorded event loop delays since the previous scrape (the last measured window when none was recorded since).',
  p90: 'The 90th percentile of the recorded event loop delays since the previous scrape (the last measured window when none was recorded since).',
  p99: 'The 99th percentile of the recorded event loop delays since the previous scrape (the last measured window when none was recorded since).',
};

function read(h: IntervalHistogram, periodNs: number): Record<Stat, number> {
  const late = (ns: number): number => Math.max(0, ns - periodNs) / 1e9;
  return {
    min: late(h.min),
    max: late(h.max),
    mean: late(h.mean),
    stddev: h.stddev / 1e9,
    p50: late(h.percentile(50)),
    p90: late(h.percentile(90)),
    p99: late(h.percentile(99)),
  };
}

/**
 * Registers the seven gauges on `registry` (whose prom-client versions must have been removed).
 * `resolutionMs`: the sampling period of the delay monitor (one timer per period).
 */
export function registerEventLoopDelay(registry: Registry, resolutionMs: number): void {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  // Zero until the first sample (a real 0: no delay measured yet), never NaN.
  let last: Record<Stat, number> = { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };
  const gauges = new Map<Stat, Gauge>();
  for (const stat of Object.keys(EVENT_LOOP_DELAY_METRICS) as Stat[]) {
    gauges.set(stat, new Gauge({
      name: EVENT_LOOP_DELAY_METRICS[stat],
      help: HELP[stat],
      registers: [registry],
      // One read per scrape feeds all seven (the first gauge's collect runs first).
      ...(stat === 'min' ? {
        collect() {
          if (h.count > 0) {
            last = read(h, resolutionMs * 1e6);
            h.reset();
          }
          for (const [s, g] of gauges) g.set(last[s]);
        },
      } : {}),
    }));
  }
}
