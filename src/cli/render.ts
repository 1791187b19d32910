import type { RunResponse__Output } from '../gen/warmpool/v1/RunResponse.js';
import type { DeviceRunResult__Output } from '../gen/warmpool/v1/DeviceRunResult.js';
import { statusName } from '../api/status.js';
import type { Style } from './style.js';

/** Text of one RunResponse: outputs under a header per command (stdout), failures named on stderr. */
export interface Rendered { out: string; err: string; ok: boolean }

export function renderRun(r: RunResponse__Output, style: Style): Rendered {
  let out = '';
  let err = '';
  let ok = true;
  for (const res of r.results) {
    const tags = [`${res.duration_ms.toFixed(1)} ms`, res.cached ? 'cached' : '', res.failed ? style.red('FAILED') : ''].filter(Boolean).join(', ');
    out += `${style.bold(`### ${r.device}: ${res.command}`)} ${style.dim('(')}${tags}${style.dim(')')}\n`;
    out += `${res.output}${res.output.endsWith('\n') || res.output === '' ? '' : '\n'}`;
    if (res.failed) {
      ok = false;
      err += `warmpool: ${r.device}: "${res.command}" failed${res.error ? `: ${res.error}` : ''}\n`;
    }
  }
  return { out, err, ok };
}

/** One device's outcome in `many`: its run, or its error with the status name. */
export function renderDeviceResult(r: DeviceRunResult__Output, style: Style): Rendered {
  if (r.error) {
    return { out: `${style.bold(`### ${r.device}:`)} ${style.red(`${statusName(r.error.code)}: ${r.error.message}`)}\n`, err: '', ok: false };
  }
  if (r.response) return renderRun(r.response, style);
  return { out: `### ${r.device}: no result\n`, err: '', ok: false };
}
