/**
 * Netconf request validation (docs/api.md, "Netconf"): every malformed request is
 * INVALID_ARGUMENT naming the field, before any session is touched.
 */
import { WarmpoolError } from '../core/errors.js';
import type { AppConfig } from '../config/types.js';
import type { NetconfRequest__Output } from '../gen/warmpool/v1/NetconfRequest.js';
import type { ValidNetconf } from '../app/run-netconf.js';
import { EOM } from '../drivers/netconf/framing.js';
import { topLevelElements, XmlScanError } from '../drivers/netconf/xml-scan.js';
import { validateDeviceId } from './validate.js';

/** C0 controls other than TAB, LF, CR: not allowed in XML 1.0 at all. */
const XML_CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/**
 * Operations that read and change nothing. Anything else (edit-config, copy-config, lock,
 * commit, vendor RPCs, ...) is a write and is authorized like `configure: true`. Junos names
 * its operational (show) RPCs get-...-information, all read-only.
 */
const READ_ONLY_OPERATIONS = new Set(['get', 'get-config', 'get-schema', 'get-data']);

export function isReadOnlyOperation(op: string): boolean {
  return READ_ONLY_OPERATIONS.has(op) || /^get-[a-z0-9-]{1,120}-information$/.test(op);
}

/** Operations the daemon refuses: they would end or change the pooled session itself. */
const REFUSED: Record<string, string> = {
  'close-session': 'the daemon owns the session and closes it itself',
  'create-subscription': 'notifications are not supported on pooled sessions (they would interleave with other callers\' replies)',
  hello: 'the daemon exchanges <hello> itself, once per session',
  rpc: 'send only what goes inside <rpc>; the daemon adds <rpc> and its message-id',
};

function invalid(field: string, problem: string, device: string): WarmpoolError {
  return new WarmpoolError('INVALID_ARGUMENT', `device "${device}": ${field}: ${problem}`, { field, device });
}

export function validateNetconf(req: NetconfRequest__Output, limits: AppConfig['limits']): ValidNetconf {
  const device = validateDeviceId(req.device);
  const rpc = req.rpc ?? '';
  if (rpc.trim() === '') throw invalid('rpc', 'is required: the XML inside <rpc>, e.g. "<get-config><source><running/></source></get-config>"', device);
  const bytes = Buffer.byteLength(rpc);
  if (bytes > limits.maxHttpBodyBytes) throw invalid('rpc', `${bytes} bytes exceed the limit of ${limits.maxHttpBodyBytes} (limits.maxHttpBodyBytes)`, device);
  if (XML_CONTROL_RE.test(rpc)) throw invalid('rpc', 'contains a control character that XML does not allow', device);
  if (rpc.includes(EOM)) throw invalid('rpc', `contains "${EOM}", the NETCONF 1.0 end-of-message marker`, device);
  let names: string[];
  try {
    names = topLevelElements(rpc);
  } catch (err) {
    if (err instanceof XmlScanError) throw invalid('rpc', `is not well-formed XML: ${err.message}`, device);
    throw err;
  }
  if (names.length !== 1) throw invalid('rpc', `must hold exactly one operation element, found ${names.length}${names.length ? ` (${names.slice(0, 5).join(', ')})` : ''}`, device);
  const operation = names[0] as string;
  const refused = REFUSED[operation];
  if (refused) throw invalid('rpc', `<${operation}> is not accepted: ${refused}`, device);
  return { device, rpc, operation, write: !isReadOnlyOperation(operation), timeoutMs: req.timeout_ms ?? 0 };
}
