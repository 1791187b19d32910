/**
 * The simulator's NETCONF side checked by a third-party client, Debian's python3-ncclient
 * (scripts/install-test-deps.sh), so the simulator is not only a mirror of our own driver.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSim } from './kit/sim.js';

const run = promisify(execFile);

const SCRIPT = String.raw`
import json, sys
from ncclient import manager
from ncclient.operations import RPCError
from ncclient.xml_ import to_ele
host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}
with manager.connect(host=host, port=port, username=user, password=password, hostkey_verify=False,
                     look_for_keys=False, allow_agent=False, timeout=20) as m:
    out["session_id"] = m.session_id
    out["base11"] = "urn:ietf:params:netconf:base:1.1" in m.server_capabilities
    out["get_config"] = m.get_config(source="running").data_xml
    m.edit_config(target="running", config='<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><system xmlns="urn:example:system"><hostname>from-ncclient</hostname></system></config>')
    out["after_edit"] = m.get_config(source="running").data_xml
    out["empty_filter"] = m.dispatch(to_ele('<get><filter type="subtree"/></get>')).xml
    try:
        m.dispatch(to_ele("<frobnicate/>"))
        out["rpc_error"] = None
    except RPCError as e:
        out["rpc_error"] = {"message": e.message, "tag": e.tag, "severity": e.severity}
print(json.dumps(out))
`;

async function ncclient(port: number, user: string, password: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('/usr/bin/python3', ['-c', SCRIPT, '127.0.0.1', String(port), user, password], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
}

for (const framing of ['1.1', '1.0'] as const) {
  t.test(`ncclient talks to the simulator (server offers base:${framing === '1.1' ? '1.0 and 1.1' : '1.0 only'}): get-config, edit-config, rpc-error`, async (t) => {
    const sim = await startSim(t, { platform: 'juniper_junos', hostname: 'nc-sim', netconfFraming: framing });
    const r = await ncclient(sim.port, sim.username, sim.password);
    t.equal(r['base11'], framing === '1.1');
    t.match(String(r['session_id']), /^[0-9]+$/);
    t.match(r['get_config'], /<hostname>nc-sim<\/hostname>/);
    t.match(r['get_config'], /<name>ge-0\/0\/0<\/name>/);
    t.match(r['after_edit'], /<hostname>from-ncclient<\/hostname>/);
    t.match(r['empty_filter'], /<data\/>/);
    t.same(r['rpc_error'], { message: 'operation frobnicate is not supported by this simulated device', tag: 'operation-not-supported', severity: 'error' });
    t.equal(sim.stats.commandCounts.get('netconf:edit-config'), 1);
    t.equal(sim.stats.commandCounts.get('netconf:close-session'), 1, 'ncclient closed its session with close-session');
  });
}
